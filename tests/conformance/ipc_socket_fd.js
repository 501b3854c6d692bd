// Item 1 of issue 10: new net.Socket({fd, readable, writable, allowHalfOpen})
// on connected TCP fds. Node cannot make a bare connected fd, so a parent
// connects four clients to its server, hands their fds to a child node (fds
// 3 to 6) and destroys its own copies; the child wraps them: a (default),
// b (writable: false), c (readable: false), d (allowHalfOpen). The peers are
// the parent's accepted sockets (pa..pd). The C twin connects with connect(2)
// and wraps the fds itself. Also the errors thrown for fd -1 and a file.
// Sides race between processes: each prints a first line in a fixed order.
'use strict';
const { net, log, deadline, traceSocket } = require('./common');
const fs = require('fs');
const cp = require('child_process');
deadline();

function state(side, s, port) {
  const l = s.address();
  log(side, 'state', s.readable, s.writable, s.readyState, s.pending, s.connecting,
    s.remoteAddress, s.remoteFamily, s.remotePort === port ? 'PORT' : s.remotePort,
    l.address, l.family);
}

if (process.argv[2] === 'child') {
  const port = +process.argv[3];
  const a = traceSocket(new net.Socket({ fd: 3 }), 'a');
  state('a', a, port);
  a.write('hello-a');
  const b = traceSocket(new net.Socket({ fd: 4, writable: false }), 'b');
  state('b', b, port);
  const c = traceSocket(new net.Socket({ fd: 5, readable: false }), 'c');
  state('c', c, port);
  c.end('from-c');
  const d = traceSocket(new net.Socket({ fd: 6, allowHalfOpen: true }), 'd');
  state('d', d, port);
  d.on('end', () => d.end('late-d'));
} else {
  // One line per side first, in a fixed order: the sides' first lines race
  // between the two processes, and run.sh groups the sides in order of appearance.
  for (const side of ['bad', 'file', 'a', 'b', 'c', 'd', 'pa', 'pb', 'pc', 'pd']) log(side, 'trace');
  for (const [side, fd] of [['bad', -1], ['file', fs.openSync(__filename, 'r')]]) {
    try {
      new net.Socket({ fd });
    } catch (e) {
      log(side, 'throw', e.code);
    }
  }
  const peers = [];
  const clients = [];
  let closed = 0;
  const srv = net.createServer((p) => {
    const side = 'p' + 'abcd'[peers.length];
    peers.push(traceSocket(p, side));
    p.on('close', () => { if (++closed === 4) srv.close(); });
    if (side === 'pa') p.on('data', () => p.end('bye-a'));
    maybeSpawn();
  });
  srv.listen(0, '127.0.0.1', () => connectNext());
  function connectNext() {
    const c = net.connect(srv.address().port, '127.0.0.1', () => {
      clients.push(c);
      if (clients.length < 4) connectNext();
      else maybeSpawn();
    });
  }
  function maybeSpawn() {
    if (peers.length !== 4 || clients.length !== 4) return;
    cp.spawn(process.execPath, [__filename, 'child', String(srv.address().port)],
      { stdio: ['ignore', 'inherit', 'inherit', ...clients] });
    for (const c of clients) c.destroy();
    peers[1].end('to-b');
    peers[3].end('to-d');
  }
}
