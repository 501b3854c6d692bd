// Writes cancelled before the connection (issue 8, item 5): their
// callbacks get ERR_SOCKET_CLOSED_BEFORE_CONNECTION, whether the socket is
// destroyed while connecting or the connect fails (a Unix socket path that
// does not exist: no port another test could take meanwhile). The callbacks are
// on their own side ("wcb"): cnet runs them before 'error' and 'close'
// (docs/design.md), Node from a 'close' listener; their order among
// themselves is the same.
'use strict';
const { net, log, traceSocket, deadline } = require('./common');
const os = require('os');
const path = require('path');
deadline();

const code = (e) => (e ? e.code : '-');
const server = net.createServer((c) => c.resume());
server.listen(0, '127.0.0.1', () => {
  const a = net.connect({ port: server.address().port, host: '127.0.0.1' });
  traceSocket(a, 'destroyed');
  log('destroyed', 'connecting'); // each side's first line in the same order in both traces
  a.write('abc', (e) => log('wcb destroyed w1', code(e)));
  a.write('de', (e) => log('wcb destroyed w2', code(e)));
  a.destroy();
  a.on('close', () => {
    server.close();
    const b = net.connect(path.join(os.tmpdir(), `conf-no-such-${process.pid}.sock`));
    traceSocket(b, 'failed');
    b.write('abc', (e) => log('wcb failed w1', code(e)));
    b.write('de', (e) => log('wcb failed w2', code(e)));
  });
});
