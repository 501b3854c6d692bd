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

// A hang fails fast instead of hanging CTest.
function deadline(ms = 5000) {
  setTimeout(() => { log('DEADLINE'); process.exit(2); }, ms).unref();
}

module.exports = { net, esc, log, errStr, traceSocket, traceServer, deadline };
