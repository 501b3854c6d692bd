// Socket accessors (issue 8): readableHighWaterMark, writableCorked,
// writableEnded, writableFinished, readableEncoding and socket.server, read
// on a client and on a server-accepted socket through their lives.
'use strict';
const { net, log, traceSocket, traceServer, deadline } = require('./common');
deadline();

let server;
function show(side, what, s) {
  const srv = s.server == null ? 'none' : s.server === server ? 'server' : 'other';
  log(side, what, 'rhwm', s.readableHighWaterMark, 'corked', s.writableCorked,
      'ended', s.writableEnded, 'finished', s.writableFinished,
      'enc', s.readableEncoding ?? 'null', 'server', srv);
}

const fresh = new net.Socket({ highWaterMark: 5 });
show('fresh', 'new', fresh);
fresh.destroy();

server = net.createServer({ highWaterMark: 1000 }, (c) => {
  show('peer', 'connection', c);
  for (const enc of ['hex', 'UTF-8', 'binary', 'ucs2', 'base64url']) {
    c.setEncoding(enc);
    show('peer', enc, c);
  }
  c.setEncoding('latin1');
  c.on('data', () => show('peer', 'data', c));
  c.on('end', () => show('peer', 'end', c));
  c.on('finish', () => show('peer', 'finish', c));
  c.on('close', () => { show('peer', 'close', c); server.close(); });
});
traceServer(server, 'server', { peer: 'peer' });
server.listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1');
  traceSocket(c, 'client');
  show('client', 'connect()', c);
  c.cork();
  c.cork();
  show('client', 'cork2', c);
  c.uncork();
  show('client', 'uncork1', c);
  c.uncork();
  c.uncork();
  show('client', 'uncork3', c);
  c.cork();
  c.write('x');
  c.end();
  show('client', 'end()', c);
  c.on('finish', () => show('client', 'finish', c));
  c.on('close', () => show('client', 'close', c));
});
