// TLS (issue 9): a server's ALPNCallback (node v20). It sees the SNI name
// (false without one) and the client's protocols; clients one after another:
//   1 servername localhost, ALPN a,b: it picks b (both sides agree on it);
//   2 no servername, ALPN h2,c: it picks the first;
//   3 ALPN none: it returns nothing: a fatal no_application_protocol alert
//     (tlsClientError ERR_SSL_NO_APPLICATION_PROTOCOL, the client's alert;
//     this client writes nothing: node reports an alert that arrives while a
//     write waits for the handshake as EPROTO "write EPROTO ...");
//   4 ALPN x,y: it returns 'spdy', not offered: tlsClientError
//     ERR_TLS_ALPN_CALLBACK_INVALID_RESULT, no alert, the client's ECONNRESET;
//   5 no ALPN: no call, alpnProtocol false.
// And ALPNCallback with ALPNProtocols is refused at creation.
// OpenSSL's messages carry thread ids and source lines in node: codes only.
'use strict';
const fs = require('fs');
const tls = require('tls');
const { execFileSync } = require('child_process');
const { log, esc, deadline } = require('./common');
deadline();

if (!fs.existsSync('tls_a_key.pem'))
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', 'tls_a_key.pem', '-out', 'tls_a_cert.pem', '-subj', '/CN=a.example.com',
    '-addext', 'subjectAltName=DNS:a.example.com,DNS:localhost,IP:127.0.0.1', '-days', '2'],
  { stdio: 'ignore' });
const A = { key: fs.readFileSync('tls_a_key.pem'), cert: fs.readFileSync('tls_a_cert.pem') };

try {
  tls.createServer({ ...A, ALPNProtocols: ['h2'], ALPNCallback: () => 'h2' });
} catch (e) {
  log('server createServer', e.code, esc(e.message));
}

const server = tls.createServer({ ...A, ALPNCallback({ servername, protocols }) {
  log('server ALPNCallback', servername || '-', protocols.join(','));
  if (protocols[0] === 'a') return protocols[1];
  if (protocols[0] === 'h2') return 'h2';
  if (protocols[0] === 'x') return 'spdy';
  return undefined;
} }, (s) => {
  log('server secureConnection', s.alpnProtocol);
  s.on('data', (d) => s.write(d));
});
server.on('tlsClientError', (e) => {
  if (e.code === 'ERR_SSL_NO_APPLICATION_PROTOCOL') log('server tlsClientError', e.code);
  else log('server tlsClientError', e.code, esc(e.message));
});

const plan = [['localhost', ['a', 'b']], [undefined, ['h2', 'c']], [undefined, ['none']],
  [undefined, ['x', 'y']], [undefined, undefined]];
function connect(i) {
  if (i === plan.length) return server.close();
  const side = 'client' + (i + 1);
  const c = tls.connect({ port: server.address().port, host: '127.0.0.1', servername: plan[i][0],
    ALPNProtocols: plan[i][1], ca: [A.cert] });
  c.on('secureConnect', () => log(side, 'secureConnect', c.alpnProtocol));
  c.on('data', (d) => log(side, 'data', esc(d)));
  c.on('end', () => log(side, 'end'));
  c.on('error', (e) => {
    if (e.code === 'ECONNRESET') log(side, 'error', e.code, esc(e.message));
    else log(side, 'error', e.code);
  });
  c.on('close', () => { log(side, 'close'); setTimeout(() => connect(i + 1), 50); });
  if (plan[i][1] && plan[i][1][0] === 'none') c.end();
  else c.end('ping');
}
server.listen(0, '127.0.0.1', () => connect(0));
