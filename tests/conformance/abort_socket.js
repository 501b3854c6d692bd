// Item 8 of issue 8, sockets: net.connect({signal}) and new net.Socket({signal}).
// An abort destroys the socket at once with Node's AbortError (code
// ABORT_ERR, message "The operation was aborted", no syscall): 'error' then
// 'close'. Aborted in 'connect' ('ready' still follows), while connecting,
// in 'lookup', before any connect, and after 'close' (nothing).
// conformance: strict-order
'use strict';
const { net, log, deadline } = require('./common');
deadline();

function trace(side, s, closeFlag = true) {
  for (const ev of ['lookup', 'connect', 'ready', 'end', 'finish']) s.on(ev, () => log(side, ev));
  s.on('error', (e) => log(side, 'error', e.code, e.syscall || '-', e.message));
  s.on('close', (h) => log(side, 'close', closeFlag ? h : ''));
  return s;
}

const steps = [];
const srv = net.createServer((c) => c.on('error', () => {}));
srv.listen(0, '127.0.0.1', () => {
  const port = srv.address().port;
  let i = 0;
  const next = () => (i < steps.length ? steps[i++](port, next) : srv.close(() => log('done')));
  next();
});

steps.push((port, next) => {
  const ac = new AbortController();
  const c = trace('connected', net.connect({ port, host: '127.0.0.1', signal: ac.signal }));
  c.on('connect', () => { ac.abort(); log('connected', 'aborted', c.destroyed); });
  c.on('close', () => setImmediate(next));
});
steps.push((port, next) => {
  const ac = new AbortController();
  const c = trace('connecting', net.connect({ port, host: '127.0.0.1', signal: ac.signal }));
  ac.abort();
  log('connecting', 'aborted', c.destroyed, c.connecting);
  c.on('close', () => setImmediate(next));
});
steps.push((port, next) => {
  const ac = new AbortController();
  const c = trace('lookup', net.connect({ port, host: 'localhost', signal: ac.signal }));
  c.once('lookup', () => ac.abort());
  c.on('close', () => setImmediate(next));
});
steps.push((port, next) => {
  // A socket never connected: Node's 'close' has no hadError argument here.
  const ac = new AbortController();
  const c = trace('unconnected', new net.Socket({ signal: ac.signal }), false);
  ac.abort();
  log('unconnected', 'aborted', c.destroyed);
  c.on('close', () => setImmediate(next));
});
steps.push((port, next) => {
  const ac = new AbortController();
  const c = trace('closed', net.connect({ port, host: '127.0.0.1', signal: ac.signal }));
  c.on('connect', () => c.destroy());
  c.on('close', () => setImmediate(() => { ac.abort(); log('closed', 'aborted'); next(); }));
});
