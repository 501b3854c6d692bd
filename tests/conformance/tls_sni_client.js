// TLS (issue 9): the SNI a client sends, and what the server sees
// (socket.servername, false when none came) and the name the certificate
// is checked against. client1: an IP address, no servername: no SNI.
// client2: an IP address with servername 'localhost': sent, and checked.
// client3: host 'localhost' with servername '': no SNI, the host checked.
// client4: servername 'localhost' given for host 'localhost': sent. Without
// servername cnet sends the host (node's https does, tls.connect does not:
// docs/node-differences.md), so cnet's client4 leaves servername out.
// client5: servername 'nothere.example': sent, and the check fails on it.
'use strict';
const tls = require('tls');
const { log, deadline } = require('./common');
const { tlsFiles } = require('./tls_common');
deadline();
const { key, cert } = tlsFiles();

const server = tls.createServer({ key, cert }, (s) => {
  log('server secureConnection', s.servername);
  s.end();
});

const clients = [
  { host: '127.0.0.1' },
  { host: '127.0.0.1', servername: 'localhost' },
  { host: 'localhost', servername: '' },
  { host: 'localhost', servername: 'localhost' },
  { host: '127.0.0.1', servername: 'nothere.example' },
];

function connect(n) {
  if (n > clients.length) return server.close();
  const side = 'client' + n;
  const c = tls.connect({ port: server.address().port, ca: cert, ...clients[n - 1],
    checkServerIdentity: (host, crt) => {
      log(side, 'check', host);
      return tls.checkServerIdentity(host, crt);
    } });
  c.on('secureConnect', () => log(side, 'secureConnect', c.authorized, c.servername));
  c.on('error', (e) => log(side, 'error', e.code));
  c.on('close', () => setTimeout(() => connect(n + 1), 10));
  c.resume();
}
server.listen(0, '127.0.0.1', () => connect(1));
