// socket.setTimeout (issue 8): setTimeout(ms, cb) twice adds cb twice,
// setTimeout(0, cb) disables the timeout and removes cb once, and
// socket.timeout is undefined until setTimeout is called (0 counts), and
// unchanged by a setTimeout on a destroyed socket.
'use strict';
const { net, log, traceSocket, traceServer, deadline } = require('./common');
deadline();

const fresh = new net.Socket();
log('fresh timeout', fresh.timeout);
fresh.setTimeout(0);
log('fresh timeout', fresh.timeout);
fresh.destroy();
fresh.setTimeout(50);
log('fresh timeout', fresh.timeout);

const server = net.createServer();
traceServer(server, 'server', { peer: 'peer' });
server.listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1');
  traceSocket(c, 'client');
  log('client timeout', c.timeout);
  const cb = () => log('client cb');
  const cb2 = () => log('client cb2');
  c.setTimeout(30, cb);
  c.setTimeout(30, cb);
  log('client listeners', c.listenerCount('timeout'), 'timeout', c.timeout);
  c.setTimeout(0, cb);
  log('client listeners', c.listenerCount('timeout'), 'timeout', c.timeout);
  c.setTimeout(0, cb2); // not a listener: nothing to remove
  log('client listeners', c.listenerCount('timeout'), 'timeout', c.timeout);
  c.setTimeout(40, cb2);
  log('client listeners', c.listenerCount('timeout'), 'timeout', c.timeout);
  c.on('timeout', () => {
    log('client listeners', c.listenerCount('timeout'), 'timeout', c.timeout);
    c.destroy();
    server.close();
  });
  c.on('close', () => log('client timeout', c.timeout));
});
