// TLS (issue 9): a server's SNICallback, answered now or later. Clients
// connect one after another, each trusting both certificates:
//   1 servername b.example.com: answered from a timer with B's context, so
//     the client sees CN b.example.com; the echo comes back;
//   2 servername localhost: answered at once with no context: the server's
//     own certificate (CN a.example.com);
//   3 servername x.example.com: answered from a timer with an error: the
//     server's tlsClientError carries it, the socket closes without an alert
//     and the client sees the TCP close (ECONNRESET);
//   4 servername y.example.com: the socket destroyed while the answer is
//     pending, answered after (ignored): tlsClientError ECONNRESET "socket
//     hang up";
//   5 no servername (an IP address): no call, the server's certificate.
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
const bctx = tls.createSecureContext(B);

const server = tls.createServer({ ...A, SNICallback(name, cb) {
  log('server SNICallback', name);
  const socket = this;
  if (name === 'b.example.com')
    setTimeout(() => cb(null, bctx), 20);
  else if (name === 'localhost')
    cb(null, undefined);
  else if (name === 'x.example.com')
    setTimeout(() => cb(Object.assign(new Error('no certificate for x.example.com'),
      { code: 'ENOTFOUND' })), 20);
  else
    setTimeout(() => { socket.destroy(); cb(null, bctx); }, 20);
} }, (s) => {
  log('server secureConnection', s.servername);
  s.on('data', (d) => s.write(d));
});
server.on('tlsClientError', (e) => log('server tlsClientError', e.code, esc(e.message)));

const plan = ['b.example.com', 'localhost', 'x.example.com', 'y.example.com', undefined];
function connect(i) {
  if (i === plan.length) return server.close();
  const side = 'client' + (i + 1);
  const c = tls.connect({ port: server.address().port, host: '127.0.0.1', servername: plan[i],
    ca: [A.cert, B.cert] });
  c.on('secureConnect', () =>
    log(side, 'secureConnect', c.authorized, c.getPeerCertificate().subject.CN));
  c.on('data', (d) => log(side, 'data', esc(d)));
  c.on('end', () => log(side, 'end'));
  c.on('error', (e) => log(side, 'error', e.code, esc(e.message)));
  c.on('close', () => { log(side, 'close'); setTimeout(() => connect(i + 1), 50); });
  c.end('ping');
}
server.listen(0, '127.0.0.1', () => connect(0));
