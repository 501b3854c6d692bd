// Node side of the conformance suite (tests/conformance/README.md): one
// canonical line per observable event, the same text conformance.h prints.
'use strict';
const net = require('net');

function esc(buf) {
  if (typeof buf === 'string') buf = Buffer.from(buf, 'utf8');
  let out = '"';
  for (const b of buf) {
    if (b === 0x22 || b === 0x5c) out += '\\' + String.fromCharCode(b);
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += '\\x' + b.toString(16).padStart(2, '0');
  }
  return out + '"';
}

function log(...parts) {
  process.stdout.write(parts.map(String).join(' ') + '\n');
}

// The error of an event: code and syscall ('-' when absent).
function errStr(e) {
  return `${e.code || '-'} ${e.syscall || '-'}`;
}

const SOCKET_EVENTS = ['connect', 'ready', 'end', 'finish', 'drain', 'timeout'];

// Prints every event of socket @s prefixed with @side. opts.data: false to
// leave 'data' out (chunking), 'len' to print lengths only.
function traceSocket(s, side, opts = {}) {
  s.on('lookup', (err, address, family) =>
    log(side, 'lookup', err ? err.code : '-', address ?? '-', family ?? '-'));
  for (const ev of SOCKET_EVENTS) s.on(ev, () => log(side, ev));
  if (opts.data !== false)
    s.on('data', (d) => log(side, 'data', opts.data === 'len' ? d.length : esc(d)));
  s.on('error', (e) => log(side, 'error', errStr(e)));
  s.on('close', (h) => log(side, 'close', h));
  return s;
}

function traceServer(srv, side, opts = {}) {
  srv.on('listening', () => log(side, 'listening'));
  srv.on('error', (e) => log(side, 'error', errStr(e)));
  srv.on('close', () => log(side, 'close'));
  srv.on('drop', () => log(side, 'drop'));
  if (opts.connection !== false)
    srv.on('connection', (c) => {
      log(side, 'connection');
      if (opts.trace !== false) traceSocket(c, opts.peer || 'peer', opts);
    });
  return srv;
}

// Values that vary between runs (ports, temp paths), printed by name: named('PORT', port).
const names = [];
function named(name, value) {
  names.push([String(value), name]);
}
function sub(text) {
  for (const [value, name] of names) text = String(text).split(value).join(name);
  return text;
}
const opt = (x) => (x === undefined || x === null ? '-' : sub(x));

// An error in full: code, syscall, message and the fields around them; an
// AggregateError (Happy Eyeballs) lists each attempt's error after it.
function errDetail(e) {
  let out = `${e.code || '-'} ${e.syscall || '-'} "${sub(e.message)}" address=${opt(e.address)}` +
    ` port=${opt(e.port)} host=${opt(e.hostname ?? e.host)}` +
    ` local=${opt(e.localAddress)}:${opt(e.localPort)}`;
  if (e instanceof AggregateError) out += ` attempts=[${e.errors.map(errDetail).join(' | ')}]`;
  return out;
}

// Prints the connectionAttempt* events of socket @s (not part of traceSocket:
// every connect emits them, and their ports vary).
function traceAttempts(s, side) {
  s.on('connectionAttempt', (ip, port, family) =>
    log(side, 'connectionAttempt', opt(ip), opt(port), opt(family)));
  s.on('connectionAttemptFailed', (ip, port, family, e) =>
    log(side, 'connectionAttemptFailed', opt(ip), opt(port), opt(family), errStr(e)));
  s.on('connectionAttemptTimeout', (ip, port, family) =>
    log(side, 'connectionAttemptTimeout', opt(ip), opt(port), opt(family)));
  return s;
}

// A loopback port whose connects never complete, for attempt timeouts: a
// worker listens with backlog 1 and blocks its loop, so it never accepts,
// and two connects fill the accept queue; Linux then drops further SYNs
// (the connect waits for a retransmission). Nothing leaves the machine.
// cb(port, done); done() closes the fillers (the worker dies with the process).
function blackhole(host, cb) {
  const { Worker } = require('worker_threads');
  const w = new Worker(`const net = require('net');
    const { parentPort } = require('worker_threads');
    const s = net.createServer().listen({ port: 0, host: ${JSON.stringify(host)}, backlog: 1 }, () => {
      parentPort.postMessage(s.address().port);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    });`, { eval: true });
  w.unref();
  w.once('message', (port) => {
    const fillers = [];
    let up = 0;
    for (let i = 0; i < 2; i++) {
      const f = net.connect(port, host, () => {
        if (++up === 2) cb(port, () => fillers.forEach((x) => x.destroy()));
      });
      f.unref();
      fillers.push(f);
    }
  });
}

// A hang fails fast instead of hanging CTest.
function deadline(ms = 5000) {
  setTimeout(() => { log('DEADLINE'); process.exit(2); }, ms).unref();
}

module.exports = {
  net, esc, log, errStr, traceSocket, traceServer, deadline, named, sub, errDetail,
  traceAttempts, blackhole,
};
