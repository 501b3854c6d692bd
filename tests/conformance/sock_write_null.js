// write(null) (issue 8, item 4): ERR_STREAM_NULL_VALUES whatever the
// socket's state, checked before it (a fresh socket, connecting, open,
// ended, destroyed). Node throws it; cnet returns it. The socket is
// untouched: it connects, ends and closes as usual. (allowHalfOpen: without
// it Node replaces write() after the peer's FIN by writeAfterFIN, which
// ignores null; cnet has no such second write.)
'use strict';
const { net, log, traceSocket, traceServer, deadline } = require('./common');
deadline();

function tryNull(s, state) {
  try { s.write(null); log('client', state, 'write(null) accepted'); } catch (e) { log('client', state, 'write(null)', e.code); }
}

const server = net.createServer((c) => c.resume());
traceServer(server, 'server', { peer: 'peer' });
tryNull(new net.Socket(), 'fresh');
const d = new net.Socket();
d.destroy();
tryNull(d, 'destroyed');
server.listen(0, '127.0.0.1', () => {
  const s = net.connect({ port: server.address().port, host: '127.0.0.1', allowHalfOpen: true });
  traceSocket(s, 'client');
  tryNull(s, 'connecting');
  s.on('connect', () => {
    tryNull(s, 'open');
    s.end();
    tryNull(s, 'ended');
  });
  s.on('close', () => {
    tryNull(s, 'closed');
    server.close();
  });
});
