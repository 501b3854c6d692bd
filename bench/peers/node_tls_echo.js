'use strict';
// node_tls_echo: Node's tls echo server, what cnet's TLS semantics come from.
//
//   node node_tls_echo.js [--tls1.2] --cert CERT.pem --key KEY.pem HOST:PORT | [V6]:PORT | unix:PATH
//
// tls.createServer with node's defaults (session tickets on, its ciphers and
// handshake timeout), --tls1.2 capping the protocol at TLS 1.2 as the C
// peers do. Echoes every byte (c.pipe(c), which also handles back-pressure),
// sends no greeting, sets noDelay, runs until SIGTERM. Like the C peers it
// accepts only 127.0.0.1, [::1] or a Unix socket path.
const fs = require('fs');
const tls = require('tls');

function usage(msg) {
  process.stderr.write(`node_tls_echo: ${msg}\n` +
    'usage: node node_tls_echo.js [--tls1.2] --cert CERT.pem --key KEY.pem ' +
    'HOST:PORT | [V6]:PORT | unix:PATH\n');
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

function parseArgs(argv) {
  const a = { tls12: false, cert: undefined, key: undefined };
  let i = 0;
  for (; i < argv.length - 1; i++) {
    if (argv[i] === '--tls1.2') a.tls12 = true;
    else if (argv[i] === '--cert' && i + 1 < argv.length - 1) a.cert = argv[++i];
    else if (argv[i] === '--key' && i + 1 < argv.length - 1) a.key = argv[++i];
    else usage('bad arguments');
  }
  if (i !== argv.length - 1) usage('missing target');
  if (a.cert === undefined || a.key === undefined) usage('--cert and --key are required');
  a.target = parseTarget(argv[argv.length - 1]);
  return a;
}

const args = parseArgs(process.argv.slice(2));
const opts = { noDelay: true };
try {
  opts.cert = fs.readFileSync(args.cert);
  opts.key = fs.readFileSync(args.key);
} catch (err) {
  process.stderr.write(`node_tls_echo: ${err.message}\n`);
  process.exit(1);
}
if (args.tls12) opts.maxVersion = 'TLSv1.2';

const server = tls.createServer(opts, (c) => {
  c.setNoDelay(true); // explicit as well, for node versions without the option
  c.on('error', () => {}); // a reset peer is normal in a benchmark; 'close' follows
  c.pipe(c);
});
// A client that goes away during the handshake is normal too.
server.on('tlsClientError', () => {});
server.on('error', (err) => {
  process.stderr.write(`node_tls_echo: listen ${process.argv[process.argv.length - 1]}: ` +
    `${err.message}\n`);
  process.exit(1);
});
// Default backlog (511): the load generator never has more than 256 connects pending.
server.listen(args.target.path !== undefined ? { path: args.target.path }
  : { host: args.target.host, port: args.target.port });
