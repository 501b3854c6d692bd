// Item 3 of issue 8: Node prints ":port" in a connect error and sets err.port
// only when the port is > 0: a connect to port 0 fails with
// "connect ECONNREFUSED 127.0.0.1" and no port.
'use strict';
const { net, log, traceSocket, traceAttempts, deadline, errDetail } = require('./common');
deadline();

const a = net.connect(0, '127.0.0.1');
traceSocket(a, 'a');
traceAttempts(a, 'a');
a.on('error', (e) => log('a detail', errDetail(e)));
a.on('close', () => {
  const b = net.connect({ port: 0, host: 'localhost', family: 4 });
  traceSocket(b, 'b');
  b.on('error', (e) => log('b detail', errDetail(e)));
});
