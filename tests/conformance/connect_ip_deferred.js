// Item 1 of issue 8: connect() to an IP literal makes its connect(2) on a later
// tick (Node's lookupAndConnect defers internalConnect to nextTick), so a
// destroy() in the same tick sends nothing: the server never sees that
// connection. A second client, connected afterwards, proves the server was
// accepting (connections are accepted in order).
// conformance: strict-order
'use strict';
const { net, log, traceSocket, traceAttempts, deadline } = require('./common');
deadline();

let connections = 0;
const server = net.createServer((c) => {
  connections++;
  c.destroy();
});
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  const a = net.connect(port, '127.0.0.1');
  traceSocket(a, 'a');
  traceAttempts(a, 'a');
  log('a connecting', a.connecting, a.readyState);
  a.destroy();
  log('a destroyed', a.destroyed);
  a.on('close', () => {
    const b = net.connect(port, '127.0.0.1');
    traceSocket(b, 'b', { data: false });
    b.on('close', () => {
      log('server connections', connections);
      server.close();
    });
  });
});
