// Issue 10, item 2: Linux abstract socket names (a path with a leading NUL).
// address() gives the name with its NUL; readableAll/writableAll are refused;
// a taken name is EADDRINUSE, a missing one ECONNREFUSED; a connection over
// it carries data and half-closes as any. Messages show the NUL as '@'
// (cnet's text; node's holds the NUL itself, docs/node-differences.md).
'use strict';
const { net, log, esc, deadline, named, sub, traceSocket, traceServer } = require('./common');
deadline();

const base = `cnet-conf-abs-${process.pid}`;
named('NAME', base);
const name = '\0' + base;
const msg = (e) => sub(e.message.replace(/\0/g, '@'));

for (const opt of ['readableAll', 'writableAll']) {
  try {
    net.createServer().listen({ path: name, [opt]: true });
    log('listen', opt, 'accepted');
  } catch (e) {
    log('listen', opt, e.code);
  }
}

const srv = net.createServer((c) => {
  c.pipe(c); // echo, and end when the client ends
});
traceServer(srv, 'server', { peer: 'peer', data: false });
srv.listen(name, () => {
  log('server address', sub(esc(srv.address())));
  const dup = net.createServer();
  dup.on('error', (e) => {
    log('dup error', e.code, e.syscall, msg(e));
    missing();
  });
  dup.listen(name);
});

function missing() {
  const m = new net.Socket();
  m.on('connectionAttempt', (a, p, f) => log('missing connectionAttempt', sub(esc(a)), p, f));
  m.on('error', (e) => log('missing error', e.code, e.syscall, msg(e)));
  m.on('close', (h) => {
    log('missing close', h);
    client();
  });
  m.connect('\0' + base + '-missing');
}

function client() {
  const c = new net.Socket();
  traceSocket(c, 'client');
  c.on('connectionAttempt', (a, p, f) => log('client connectionAttempt', sub(esc(a)), p, f));
  c.on('connect', () => {
    c.write('ping');
    c.end();
  });
  c.on('close', () => {
    srv.close(() => log('server address after close', sub(esc(srv.address()))));
  });
  c.connect({ path: name });
}
