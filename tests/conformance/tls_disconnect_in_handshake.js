// TLS (issue 9): the server end of the TCP connection sends FIN before any
// TLS record: the client fails with ECONNRESET "Client network socket
// disconnected before secure TLS connection was established", then 'close'.
'use strict';
const net = require('net');
const tls = require('tls');
const { log, esc, deadline } = require('./common');
deadline();

const server = net.createServer((s) => {
  s.on('data', () => {}); // reads the ClientHello, so the close is a FIN, never a RST
  s.end();
  s.on('close', () => log('server socket close'));
});
server.listen(0, '127.0.0.1', () => {
  const c = tls.connect({ port: server.address().port, host: '127.0.0.1' });
  c.on('connect', () => log('client connect'));
  c.on('secureConnect', () => log('client secureConnect'));
  c.on('end', () => log('client end'));
  c.on('error', (e) => log('client error', e.code, esc(e.message)));
  c.on('close', (h) => { log('client close', h); server.close(); });
});
