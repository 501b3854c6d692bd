// TLS (issue 9): a server with a self-signed certificate. Client 1 verifies
// (the default): 'secure' then 'error' DEPTH_ZERO_SELF_SIGNED_CERT then
// 'close'; the server reports tlsClientError ECONNRESET "socket hang up" and
// keeps serving. Client 2 with rejectUnauthorized false: secureConnect with
// authorized false and authorizationError set, writes before the handshake
// are sent after it, the echo comes back, end() is a clean close_notify + FIN.
'use strict';
const fs = require('fs');
const tls = require('tls');
const { execFileSync } = require('child_process');
const { log, esc, deadline } = require('./common');
deadline();

if (!fs.existsSync('tls_key.pem'))
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', 'tls_key.pem', '-out', 'tls_cert.pem', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '2'], { stdio: 'ignore' });

const server = tls.createServer({ key: fs.readFileSync('tls_key.pem'), cert: fs.readFileSync('tls_cert.pem') },
  (s) => { // 'secureConnection'
    log('server secureConnection');
    s.on('data', (d) => s.write(d));
    s.on('end', () => log('server end'));
    s.on('close', () => log('server socket close'));
  });
server.on('tlsClientError', (e) => log('server tlsClientError', e.code, esc(e.message)));

function connect(n, opts, next) {
  const c = tls.connect({ port: server.address().port, host: '127.0.0.1', ...opts });
  const side = 'client' + n;
  c.on('connect', () => log(side, 'connect'));
  c.on('secureConnect', () =>
    log(side, 'secureConnect', c.authorized, c.authorizationError || '-', c.getProtocol()));
  c.on('secure', () => log(side, 'secure'));
  c.on('data', (d) => log(side, 'data', esc(d)));
  c.on('end', () => log(side, 'end'));
  c.on('error', (e) => log(side, 'error', e.code, esc(e.message)));
  c.on('close', (h) => { log(side, 'close', h); next(); });
  c.write('ping');
  c.end();
}

server.listen(0, '127.0.0.1', () => {
  connect(1, {}, () => {
    // The server's tlsClientError for client 1 may come a turn later.
    setTimeout(() => connect(2, { rejectUnauthorized: false }, () => server.close()), 50);
  });
});
