// Addresses after close (issue 8). remoteAddress/Port/Family read while
// connected still answer in 'error' and 'close': after the peer reset the
// connection (client A), after our own resetAndDestroy() (accepted socket),
// and after a clean close that leaves the kernel with no peer (client B).
// Only what node and cnet agree on is printed: node forgets address() at
// destroy and a remoteAddress never read before; cnet keeps both (see
// docs/design.md), which tests/test_sockopt.c checks.
'use strict';
const { net, log, traceSocket, traceServer, deadline } = require('./common');
deadline();

let serverPort;
const clientPorts = [];
// At 'connection' the client may not know its own port yet: print 'set' then.
function port(p, early) {
  if (p === serverPort) return 'server-port';
  if (early) return p > 0 ? 'set' : 'unset';
  if (clientPorts.includes(p)) return 'client-port';
  return p === undefined ? 'undefined' : 'other';
}
function fam(f) {
  return f === 'IPv4' ? 4 : f === 'IPv6' ? 6 : f;
}
function remote(side, what, s) {
  log(side, what, 'remote', s.remoteAddress, fam(s.remoteFamily), port(s.remotePort, what === 'connection'));
}
function local(side, what, s) {
  const a = s.address();
  log(side, what, 'local', a.address, fam(a.family), port(a.port));
}

const server = net.createServer((c) => {
  remote('peer', 'connection', c);
  local('peer', 'connection', c);
  c.on('data', (d) => { if (String(d) === 'reset') c.resetAndDestroy(); });
  c.on('close', () => {
    remote('peer', 'close', c);
    if (++closed === 2) server.close();
  });
});
let closed = 0;
traceServer(server, 'server', { peer: 'peer' });
server.listen(0, '127.0.0.1', () => {
  serverPort = server.address().port;
  const a = net.connect(serverPort, '127.0.0.1');
  traceSocket(a, 'a');
  a.on('connect', () => {
    clientPorts.push(a.address().port);
    remote('a', 'connect', a);
    local('a', 'connect', a);
    a.write('reset');
  });
  a.on('error', () => remote('a', 'error', a));
  a.on('close', () => {
    remote('a', 'close', a);
    const b = net.connect(serverPort, '127.0.0.1');
    traceSocket(b, 'b');
    b.on('connect', () => {
      clientPorts.push(b.address().port);
      remote('b', 'connect', b);
      b.end();
    });
    b.on('close', () => remote('b', 'close', b));
  });
});
