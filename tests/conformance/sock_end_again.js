// end() on a socket the library already ended (issue 8, item 2): after the
// peer's FIN (allowHalfOpen false) the client answers "bye" with a callback;
// in it the socket is auto-ended but not finished, and end(cb) twice: both
// callbacks run at 'finish', in order. In 'finish', end(cb) again: the
// callback gets ERR_STREAM_ALREADY_FINISHED on a later tick, before 'close'.
// (end with data at that point is refused: cnet returns
// ERR_STREAM_WRITE_AFTER_END where Node emits it, so it is left out here.)
'use strict';
const { net, log, esc, traceSocket, traceServer, deadline } = require('./common');
deadline();

const code = (e) => (e ? e.code : '-');
const server = net.createServer((c) => c.end());
traceServer(server, 'server', { peer: 'peer' });
server.listen(0, '127.0.0.1', () => {
  const s = net.connect({ port: server.address().port, host: '127.0.0.1' });
  traceSocket(s, 'client');
  s.on('end', () => {
    s.write('bye', (e) => {
      log('client write-cb', code(e));
      s.end((e2) => log('client end-cb1', code(e2)));
      s.end((e2) => log('client end-cb2', code(e2)));
    });
  });
  s.on('finish', () => s.end((e) => log('client end-cb3', code(e))));
  s.on('close', () => server.close());
});
