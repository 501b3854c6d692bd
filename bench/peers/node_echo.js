'use strict';
// node_echo: the Node.js echo server cnet's semantics come from.
//
//   node node_echo.js HOST:PORT | [V6]:PORT | unix:PATH
//
// Echoes every byte (c.pipe(c), which also handles back-pressure), sends no
// greeting, sets noDelay, runs until SIGTERM. Like the C peers it accepts
// only 127.0.0.1, [::1] or a Unix socket path.
const net = require('net');

function usage(msg) {
  process.stderr.write(`node_echo: ${msg}\n` +
    'usage: node node_echo.js HOST:PORT | [V6]:PORT | unix:PATH\n');
  process.exit(2);
}

function parseTarget(spec) {
  if (spec === undefined) usage('missing target');
  if (spec.startsWith('unix:')) {
    if (spec.length === 5) usage(`bad unix socket path in '${spec}'`);
    return { path: spec.slice(5) };
  }
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(spec);
  if (m === null) usage(`expected HOST:PORT, [V6]:PORT or unix:PATH, got '${spec}'`);
  const host = m[1] !== undefined ? m[1] : m[2];
  const port = Number(m[3]);
  if (port < 1 || port > 65535) usage(`bad port in '${spec}'`);
  const v6 = m[1] !== undefined;
  if (!(v6 ? host === '::1' || host === '0:0:0:0:0:0:0:1' : host === '127.0.0.1'))
    usage(`refusing '${host}': only 127.0.0.1, [::1] or unix:PATH allowed`);
  return { host: v6 ? '::1' : '127.0.0.1', port };
}

const target = parseTarget(process.argv[2]);
const server = net.createServer({ noDelay: true }, (c) => {
  c.setNoDelay(true); // explicit as well, for node versions without the option
  c.on('error', () => {}); // a reset peer is normal in a benchmark; 'close' follows
  c.pipe(c);
});
server.on('error', (err) => {
  process.stderr.write(`node_echo: listen ${process.argv[2]}: ${err.message}\n`);
  process.exit(1);
});
// Default backlog (511): the load generator never has more than 256 connects pending.
server.listen(target.path !== undefined ? { path: target.path }
  : { host: target.host, port: target.port });
