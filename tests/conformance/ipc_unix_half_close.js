// Issue 10, item 2: half-close over a Unix socket (a filesystem path), both
// ends allowHalfOpen: the client ends first and keeps reading; the server
// side sees 'end', stays writable (readyState writeOnly), writes and ends.
// The same over an abstract name (on Linux), whose file does not exist.
'use strict';
const fs = require('fs');
const { net, log, deadline, esc, traceSocket, traceServer } = require('./common');
deadline();

function run(side, path, next) {
  const srv = net.createServer({ allowHalfOpen: true }, (c) => {
    let got = '';
    c.setEncoding('utf8');
    c.on('data', (d) => { got += d; });
    c.on('end', () => {
      log(side + '-peer', 'got', esc(got), c.readyState, c.writable);
      c.write('after-end');
      c.end('bye', () => log(side + '-peer', 'end callback', c.readyState));
    });
  });
  traceServer(srv, side + '-server', { peer: side + '-peer', data: false });
  srv.listen(path, () => {
    if (path[0] !== '\0') log(side + '-server', 'file exists', fs.existsSync(path));
    const c = net.connect({ path, allowHalfOpen: true });
    traceSocket(c, side + '-client', { data: false });
    let got = '';
    c.on('data', (d) => { got += d; });
    c.on('connect', () => {
      c.write('hello');
      c.end(() => log(side + '-client', 'end callback', c.readyState));
      log(side + '-client', 'after end()', c.readyState, c.writable, c.readable);
    });
    c.on('end', () => log(side + '-client', 'got', esc(got), c.readyState));
    c.on('close', () => srv.close(() => {
      if (path[0] !== '\0') log(side + '-server', 'file exists', fs.existsSync(path));
      next();
    }));
  });
}

run('file', 'half.sock', () => {
  if (process.platform === 'linux') run('abstract', `\0cnet-conf-half-${process.pid}`, () => {});
});
