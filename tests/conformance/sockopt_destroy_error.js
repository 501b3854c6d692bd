// socket.destroy(err) with an error of the caller's (issue 8): 'error'
// carries that error's code and message (no syscall), then 'close' (true);
// a second destroy(err) is ignored. The client destroys itself in 'connect',
// the accepted socket in 'end'.
'use strict';
const { net, log, esc, traceSocket, traceServer, deadline } = require('./common');
deadline();

function err(code, message) {
  return Object.assign(new Error(message), { code });
}

const server = net.createServer();
traceServer(server, 'server', { peer: 'peer' });
server.on('connection', (c) => {
  c.on('end', () => {
    c.destroy(err('ECONNABORTED', 'peer gave up: "quota"'));
    c.destroy(err('EPIPE', 'second destroy'));
  });
  c.on('error', (e) => log('peer message', esc(e.message)));
  c.on('close', () => server.close());
});
server.listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1');
  traceSocket(c, 'client');
  c.on('error', (e) => log('client message', esc(e.message)));
  c.on('connect', () => c.destroy(err('ERR_SOCKET_CLOSED', 'closed by its own "connect"')));
});
