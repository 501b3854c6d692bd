'use strict';
// node_cluster_echo: node_echo.js on N cluster workers sharing one port, the
// way node spreads a server over cores (the cluster module).
//
//   node node_cluster_echo.js [-w N] HOST:PORT | [V6]:PORT
//
// N defaults to 2. The primary forks N workers and only relays; each worker
// echoes every byte (c.pipe(c)), sets noDelay, sends no greeting. Scheduling
// is node's default on Linux, round-robin (the primary accepts and hands each
// connection to a worker); NODE_CLUSTER_SCHED_POLICY=none makes the workers
// accept from the shared socket themselves. SIGTERM stops the primary, which
// kills its workers. Like the C peers it accepts only 127.0.0.1 or [::1].
const cluster = require('cluster');
const net = require('net');

function usage(msg) {
  process.stderr.write(`node_cluster_echo: ${msg}\n` +
    'usage: node node_cluster_echo.js [-w N] HOST:PORT | [V6]:PORT\n');
  process.exit(2);
}

let args = process.argv.slice(2);
let workers = 2;
if (args[0] === '-w') {
  workers = Number(args[1]);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) usage(`bad worker count '${args[1]}'`);
  args = args.slice(2);
}
const spec = args[0];
if (spec === undefined || args.length !== 1) usage('expected one target');
const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(spec);
if (m === null) usage(`expected HOST:PORT or [V6]:PORT, got '${spec}'`);
const v6 = m[1] !== undefined;
const host = v6 ? m[1] : m[2];
const port = Number(m[3]);
if (port < 1 || port > 65535) usage(`bad port in '${spec}'`);
if (!(v6 ? host === '::1' || host === '0:0:0:0:0:0:0:1' : host === '127.0.0.1'))
  usage(`refusing '${host}': only 127.0.0.1 or [::1] allowed`);

if (cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('listening', () => { listening++; });
  cluster.on('exit', (w, code) => {
    if (code !== 0 && listening < workers) process.exit(1); // a worker failed to listen
  });
  const stop = () => {
    for (const id in cluster.workers) cluster.workers[id].process.kill('SIGKILL');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const server = net.createServer({ noDelay: true }, (c) => {
    c.setNoDelay(true);
    c.on('error', () => {});
    c.pipe(c);
  });
  server.on('error', (err) => {
    process.stderr.write(`node_cluster_echo: listen ${spec}: ${err.message}\n`);
    process.exit(1);
  });
  server.listen({ host: v6 ? '::1' : '127.0.0.1', port });
}
