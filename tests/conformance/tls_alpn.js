// TLS (issue 9): ALPN. The server offers ['h2', 'http/1.1'] and picks in its
// own order: client1 ['http/1.1', 'h2'] gets 'h2'; client2 ['http/1.1', 'x']
// gets 'http/1.1'; client3 offers nothing: alpnProtocol false on both sides;
// client4 ['spdy/3'] has no protocol in common: the server refuses it with a
// no_application_protocol alert (client 'error', server 'tlsClientError'),
// node's EPROTO when a write waited for the handshake aside (client4 does not write).
// A second server without ALPN: client5 ['h2'] gets false.
'use strict';
const tls = require('tls');
const { log, deadline } = require('./common');
const { tlsFiles, traceTls, tlsMsg } = require('./tls_common');
deadline();
const { key, cert } = tlsFiles();

function makeServer(name, alpn) {
  const srv = tls.createServer({ key, cert, ...(alpn ? { ALPNProtocols: alpn } : {}) }, (s) => {
    log(name, 'secureConnection', s.alpnProtocol);
    s.on('data', (d) => s.write(d));
  });
  srv.on('tlsClientError', (e) => log(name, 'tlsClientError', e.code, tlsMsg(e)));
  return srv;
}
const server = makeServer('server', ['h2', 'http/1.1']);
const plain = makeServer('server2', null);

const clients = [
  [server, ['http/1.1', 'h2']],
  [server, ['http/1.1', 'x']],
  [server, null],
  [server, ['spdy/3']],
  [plain, ['h2']],
];

function connect(n) {
  if (n > clients.length) {
    server.close();
    plain.close();
    return;
  }
  const [srv, alpn] = clients[n - 1];
  const c = tls.connect({ port: srv.address().port, host: '127.0.0.1', ca: cert,
    ...(alpn ? { ALPNProtocols: alpn } : {}) });
  traceTls(c, 'client' + n);
  c.on('close', () => setTimeout(() => connect(n + 1), 30));
  // node reports a failed handshake as 'write EPROTO' when a write was waiting for it:
  // client4 only ends.
  if (n !== 4) c.write('ping');
  c.end();
}
server.listen(0, '127.0.0.1', () => plain.listen(0, '127.0.0.1', () => connect(1)));
