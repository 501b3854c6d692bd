// resetAndDestroy() after the peer's FIN (issue 8, item 1): the socket
// closes (no 'finish': our FIN never goes out) and the peer reads ECONNRESET.
// In cnet the same holds when the reset comes while the auto-end's shutdown
// is already pending (tests/test_reset.c); Node v20 cannot be the reference
// there: its uv_tcp_close_reset() fails with EINVAL, it emits 'error'
// EINVAL 'reset' and never closes the socket (docs/design.md).
'use strict';
const { net, traceServer, traceSocket, deadline } = require('./common');
deadline();

const server = net.createServer((c) => c.end('x'));
traceServer(server, 'server', { peer: 'peer' });
server.listen(0, '127.0.0.1', () => {
  const s = net.connect({ port: server.address().port, host: '127.0.0.1' });
  traceSocket(s, 'client');
  s.on('end', () => s.resetAndDestroy());
  s.on('close', () => server.close());
});
