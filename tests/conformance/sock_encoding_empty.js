// An empty encoding name means utf8 (issue 8, item 7), as Node's
// normalizeEncoding: setEncoding('') decodes utf8 text, write(str, '') and
// end(str, '') encode utf8 ("h\u00e9llo" is 6 bytes, not latin1's 5).
'use strict';
const { net, log, traceServer, traceSocket, deadline } = require('./common');
deadline();

const server = net.createServer((c) => {
  c.setEncoding('');
  c.on('data', (d) => log('peer text', typeof d, c.readableEncoding));
});
traceServer(server, 'server', { peer: 'peer' });
server.listen(0, '127.0.0.1', () => {
  const s = net.connect({ port: server.address().port, host: '127.0.0.1' }, () => {
    s.write('h\u00e9llo', '');
    log('client bytesWritten', s.bytesWritten);
    s.end('', ''); // no second chunk: the peer's reads stay one 'data'
  });
  traceSocket(s, 'client');
  s.on('close', () => server.close());
});
