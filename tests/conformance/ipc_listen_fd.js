// Item 1 of issue 10: listen({fd}) (the seeds' server.listenFD(fd)).
// The listening fds come from a parent process, as node cannot make a bare
// socket: the parent listens (TCP on 127.0.0.1, Unix on an abstract name),
// hands both fds to a child node as its fds 3 and 4 and closes its own
// servers; the child listens on {fd: 3} and {fd: 4}. The C twin makes the
// same fds with socket/bind/listen. Also: a regular file (async 'error'
// "listen EINVAL: invalid argument", no 'close') and fd -1 (thrown).
'use strict';
const { net, log, deadline } = require('./common');
const fs = require('fs');
const cp = require('child_process');
deadline();

const addr = (s) => {
  const a = s.address();
  return a === null ? 'null' : `${a.address} ${a.family} ${a.port === +process.argv[3] ? 'PORT' : a.port}`;
};

function listenOn(side, fd, connectTo) {
  const s = net.createServer((c) => { log(side, 'connection'); c.end('hi'); });
  s.on('listening', () => {
    log(side, 'listening', addr(s));
    const c = net.connect(connectTo);
    c.on('data', (d) => log(side + '-client', 'data', String(d)));
    c.on('close', () => { log(side + '-client', 'close'); s.close(); });
  });
  s.on('error', (e) => log(side, 'error', e.code, e.syscall));
  s.on('close', () => log(side, 'close'));
  s.listen({ fd });
  log(side, 'sync', s.listening, addr(s));
}

if (process.argv[2] === 'child') {
  const [port, name] = [+process.argv[3], '\0' + process.argv[4]];
  listenOn('tcp', 3, { port, host: '127.0.0.1' });
  listenOn('unix', 4, { path: name });
} else {
  // One line per side first, in a fixed order: the sides' first lines race
  // between the two processes, and run.sh groups the sides in order of appearance.
  for (const side of ['bad', 'file', 'tcp', 'tcp-client', 'unix', 'unix-client']) log(side, 'trace');
  try {
    net.createServer().listen({ fd: -1 });
  } catch (e) {
    log('bad', 'throw', e.code);
  }

  fs.writeFileSync('regular.txt', 'x');
  const file = net.createServer();
  file.on('error', (e) =>
    log('file', 'error', e.code, e.syscall, JSON.stringify(e.message), `address=${e.address ?? '-'}`,
      file.listening, addr(file)));
  file.on('close', () => log('file', 'close'));
  file.listen({ fd: fs.openSync('regular.txt', 'r+') });
  log('file', 'sync', file.listening, addr(file));

  const name = `\0cnet-ipc-listen-fd-${process.pid}`;
  const tcp = net.createServer().listen(0, '127.0.0.1', () => {
    const unix = net.createServer().listen(name, () => {
      const port = tcp.address().port;
      cp.spawn(process.execPath, [__filename, 'child', String(port), name.slice(1)],
        { stdio: ['ignore', 'inherit', 'inherit', tcp._handle.fd, unix._handle.fd] });
      tcp.close();
      unix.close();
    });
  });
}
