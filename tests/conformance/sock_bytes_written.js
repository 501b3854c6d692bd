// socket.bytesWritten (issue 8, item 6) counts the bytes write() and end()
// accepted, queued or not: while connecting, corked, right after end(),
// encoded writes by their encoded length.
'use strict';
const { net, log, traceServer, deadline } = require('./common');
deadline();

const server = net.createServer((c) => c.resume());
traceServer(server, 'server', { peer: 'peer', data: false }); // chunking varies
server.listen(0, '127.0.0.1', () => {
  const s = net.connect({ port: server.address().port, host: '127.0.0.1' });
  const bw = (what) => log('client', what, s.bytesWritten);
  s.write('abc');
  bw('connecting');
  s.write('de');
  bw('connecting');
  s.on('connect', () => {
    bw('connect');
    s.cork();
    s.write('12345');
    bw('corked');
    s.write('');
    bw('corked-empty');
    s.uncork();
    bw('uncorked');
    s.write('ff00', 'hex');
    bw('hex');
    s.write('h\u00e9', 'latin1');
    bw('latin1');
    s.end('zz');
    bw('ended');
  });
  s.on('finish', () => bw('finish'));
  s.on('close', () => { bw('close'); server.close(); });
});
