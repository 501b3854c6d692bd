// Issue 10, item 2: the errors of Unix socket paths, as node reports them: a
// missing path (ENOENT), a path that is not a socket (ECONNREFUSED), a path
// taken by a file (EADDRINUSE), and a listener gone after close (ENOENT).
'use strict';
const fs = require('fs');
const { net, log, deadline, errDetail } = require('./common');
deadline();

fs.writeFileSync('plain.txt', 'x');

function connect(side, path, next) {
  const s = net.connect(path);
  s.on('connect', () => log(side, 'connect'));
  s.on('error', (e) => log(side, 'error', errDetail(e)));
  s.on('close', (h) => {
    log(side, 'close', h);
    next();
  });
}

const steps = [
  (next) => connect('missing', 'nope.sock', next),
  (next) => connect('notsock', 'plain.txt', next),
  (next) => {
    const srv = net.createServer();
    srv.on('error', (e) => {
      // (node's err.port is -1 here, which cnet's C struct cannot tell from "none")
      log('taken', 'error', e.code, e.syscall, `"${e.message}"`, e.address, srv.listening);
      next();
    });
    srv.listen('plain.txt');
  },
  (next) => {
    const srv = net.createServer();
    srv.listen('gone.sock', () => {
      srv.close(() => {
        log('gone', 'exists', fs.existsSync('gone.sock'));
        connect('gone', 'gone.sock', next);
      });
    });
  },
];
let i = 0;
const next = () => { if (i < steps.length) steps[i++](next); };
next();
