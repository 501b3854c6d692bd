// TLS (issue 9): session reuse. client1 (TLS 1.3) gets the server's two
// tickets as two 'session' events; getSession() once its echo came back is
// resumable: client2 passes it as `session` and isSessionReused() is true
// (no certificate check on a resumed session, and new tickets still come).
// client3 and client4 do the same over TLS 1.2 (one 'session' event).
'use strict';
const tls = require('tls');
const { log, deadline } = require('./common');
const { tlsFiles, traceTls } = require('./tls_common');
deadline();
const { key, cert } = tlsFiles();

const server = tls.createServer({ key, cert }, (s) => {
  log('server secureConnection', s.isSessionReused());
  s.on('data', (d) => s.write(d));
});

let saved = null;
function connect(n) {
  if (n > 4) return server.close();
  const opts = { port: server.address().port, host: '127.0.0.1', ca: cert };
  if (n >= 3) opts.maxVersion = 'TLSv1.2';
  if (n === 2 || n === 4) opts.session = saved;
  const c = tls.connect(opts);
  const side = 'client' + n;
  traceTls(c, side);
  c.on('secureConnect', () => log(side, 'reused', c.isSessionReused()));
  c.on('data', () => {
    saved = c.getSession();
    log(side, 'getSession', saved ? 'yes' : 'none');
  });
  c.on('close', () => setTimeout(() => connect(n + 1), 10));
  c.write('ping');
  c.end();
}
server.listen(0, '127.0.0.1', () => connect(1));
