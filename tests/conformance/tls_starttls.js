// TLS (issue 9): STARTTLS. A plain connection exchanges a line each way, then
// both sides upgrade the same connection: the server with new tls.TLSSocket
// (isServer) from its 'data' listener after writing its plain go-ahead, the
// client with tls.connect({ socket }) once it read it (cnet: set_secure on
// both). The client's write before the handshake is held; the echo and end()
// go over TLS (close_notify, then FIN).
'use strict';
const net = require('net');
const tls = require('tls');
const { log, esc, deadline } = require('./common');
const { tlsFiles, traceTls } = require('./tls_common');
deadline();
const { key, cert } = tlsFiles();
const secureContext = tls.createSecureContext({ key, cert });

const server = net.createServer((plain) => {
  plain.once('data', (d) => {
    log('server plain', esc(d));
    plain.write('GO\n');
    const s = new tls.TLSSocket(plain, { isServer: true, secureContext });
    traceTls(s, 'server', { connect: false });
    s.on('data', (d2) => s.write(d2));
    s.on('close', () => server.close());
  });
});
server.listen(0, '127.0.0.1', () => {
  const plain = net.connect(server.address().port, '127.0.0.1');
  plain.on('connect', () => log('client connect'));
  plain.once('data', (d) => {
    log('client plain', esc(d));
    const c = tls.connect({ socket: plain, ca: cert });
    traceTls(c, 'client', { connect: false });
    c.on('secure', () => log('client authorized', c.authorized));
    c.write('secret');
    c.end();
  });
  plain.write('STARTTLS\n');
});
