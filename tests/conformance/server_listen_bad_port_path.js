// Item 6 of issue 8: listen options with a path still validate the port:
// an invalid one is ERR_SOCKET_BAD_PORT (thrown by Node, returned by cnet)
// and nothing listens. (A valid port given with a path is not compared:
// Node then listens on the port, cnet on the path, as C cannot tell port 0
// from no port; cnet.h says so.)
// conformance: strict-order
'use strict';
const { net, log, deadline } = require('./common');
deadline();

function attempt(port, next) {
  const srv = net.createServer();
  try {
    srv.listen({ port, path: 'bad-port.sock' });
    log(port, 'listen ok', srv.listening);
    srv.close(next);
  } catch (e) {
    log(port, 'listen fails', e.code, srv.listening);
    setImmediate(next);
  }
}

attempt(-1, () => attempt(65536, () => attempt(70000, () => log('done'))));
