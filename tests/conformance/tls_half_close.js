// TLS (issue 9): half-close over TLS. The client writes before the handshake
// and ends (close_notify, then FIN); the server (allowHalfOpen) sees 'end',
// then answers and ends; the client reads the answer after its own end().
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

const server = tls.createServer({ key: fs.readFileSync('tls_key.pem'), cert: fs.readFileSync('tls_cert.pem'),
  allowHalfOpen: true }, (s) => {
  s.on('data', (d) => log('server data', esc(d)));
  s.on('end', () => { log('server end'); s.end('bye'); });
  s.on('finish', () => log('server finish'));
  s.on('close', (h) => log('server close', h));
});
server.listen(0, '127.0.0.1', () => {
  const c = tls.connect({ port: server.address().port, host: '127.0.0.1',
    ca: fs.readFileSync('tls_cert.pem') });
  c.on('secureConnect', () => log('client secureConnect', c.authorized));
  c.on('data', (d) => log('client data', esc(d)));
  c.on('end', () => log('client end'));
  c.on('finish', () => log('client finish'));
  c.on('close', (h) => { log('client close', h); server.close(); });
  c.write('ping');
  c.end();
});
