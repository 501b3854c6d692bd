// TLS (issue 9): tls.connect's checkServerIdentity hook. It runs after the
// chain verified, before 'secure', with servername || host and the peer's
// certificate. client1: it rejects (code CERT_REJECTED, its own message):
// 'secure', 'error' with that error, 'close'. client2: it rejects with
// tls.checkServerIdentity's error for another name. client3: the same with
// rejectUnauthorized false: secureConnect, authorized false, that code.
// client4: servername not in the certificate, the hook accepts: authorized.
// client5: the chain fails (no ca): the hook is not called.
'use strict';
const tls = require('tls');
const { log, esc, deadline } = require('./common');
const { tlsFiles, traceTls } = require('./tls_common');
deadline();
const { key, cert } = tlsFiles();

const server = tls.createServer({ key, cert }, (s) => {
  log('server secureConnection', s.servername || '-');
  s.on('data', (d) => s.write(d));
});
server.on('tlsClientError', (e) => log('server tlsClientError', e.code, esc(e.message)));

function hook(n, host, c) {
  log('client' + n, 'check', host, c.subject.CN, esc(c.subjectaltname));
  if (n === 1) return Object.assign(new Error('pin mismatch'), { code: 'CERT_REJECTED' });
  if (n === 2 || n === 3) return tls.checkServerIdentity('other.example', c);
  return undefined;
}

const clients = [
  { ca: cert },
  { ca: cert },
  { ca: cert, rejectUnauthorized: false },
  { ca: cert, servername: 'wrong.example' },
  {},
];

function connect(n) {
  if (n > clients.length) return server.close();
  const c = tls.connect({ port: server.address().port, host: '127.0.0.1', ...clients[n - 1],
    checkServerIdentity: (host, crt) => hook(n, host, crt) });
  traceTls(c, 'client' + n);
  // The server's tlsClientError for a rejected client may come a turn later.
  c.on('close', () => setTimeout(() => connect(n + 1), 30));
  c.write('ping');
  c.end();
}
server.listen(0, '127.0.0.1', () => connect(1));
