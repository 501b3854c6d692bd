// TLS (issue 9): server.setSecureContext() on a live server (a certificate
// reload): client 1 connects and sees certificate A; the server switches to
// B; client 2 then sees B, while client 1's connection keeps A and still
// echoes after client 2 is gone.
'use strict';
const fs = require('fs');
const tls = require('tls');
const { execFileSync } = require('child_process');
const { log, esc, deadline } = require('./common');
deadline();

function pem(name, cn) {
  const key = `tls_${name}_key.pem`, cert = `tls_${name}_cert.pem`;
  if (!fs.existsSync(key))
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
      '-nodes', '-keyout', key, '-out', cert, '-subj', `/CN=${cn}`,
      '-addext', `subjectAltName=DNS:${cn},DNS:localhost,IP:127.0.0.1`, '-days', '2'],
    { stdio: 'ignore' });
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
}
const A = pem('a', 'a.example.com');
const B = pem('b', 'b.example.com');

const server = tls.createServer(A, (s) => {
  log('server secureConnection');
  s.on('data', (d) => s.write(d));
  s.on('end', () => log('server end'));
});
server.on('tlsClientError', (e) => log('server tlsClientError', e.code, esc(e.message)));
server.on('close', () => log('server close'));

function connect(n, onSecure, onClose) {
  const side = 'client' + n;
  const c = tls.connect({ port: server.address().port, host: '127.0.0.1', servername: 'localhost',
    ca: [A.cert, B.cert] });
  c.on('secureConnect', () => {
    log(side, 'secureConnect', c.authorized, c.getPeerCertificate().subject.CN);
    onSecure(c);
  });
  c.on('data', (d) => log(side, 'data', esc(d), c.getPeerCertificate().subject.CN));
  c.on('end', () => log(side, 'end'));
  c.on('error', (e) => log(side, 'error', e.code, esc(e.message)));
  c.on('close', () => { log(side, 'close'); onClose(); });
  return c;
}

server.listen(0, '127.0.0.1', () => {
  const c1 = connect(1, () => {
    server.setSecureContext(B);
    log('server setSecureContext');
    connect(2, (c2) => c2.end('ping'), () => c1.end('again'));
  }, () => server.close());
});
