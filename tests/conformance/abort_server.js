// Item 8 of issue 8, servers: listen({signal}). An abort closes the server
// ('close', after its connections'); an already aborted signal closes it
// before 'listening' (a bind error still comes first); a pending bind is
// cancelled; aborting after 'close', or twice, does nothing more.
// conformance: strict-order
'use strict';
const { net, log, errStr, deadline } = require('./common');
deadline();

function trace(side, srv) {
  srv.on('listening', () => log(side, 'listening'));
  srv.on('error', (e) => log(side, 'error', errStr(e)));
  srv.on('close', () => log(side, 'close', srv.listening));
  return srv;
}

const steps = [];
let blocked;
const blocker = net.createServer();
blocker.listen(0, '127.0.0.1', () => {
  blocked = blocker.address().port;
  let i = 0;
  const next = () => (i < steps.length ? steps[i++](next) : blocker.close(() => log('done')));
  next();
});

steps.push((next) => {
  const ac = new AbortController();
  const s = trace('live', net.createServer());
  s.listen({ port: 0, host: '127.0.0.1', signal: ac.signal }, () => {
    ac.abort();
    log('live', 'aborted', s.listening);
    ac.abort();
  });
  s.on('close', () => setImmediate(next));
});
steps.push((next) => {
  const ac = new AbortController();
  const s = trace('pending', net.createServer());
  s.listen({ port: 0, host: '127.0.0.1', signal: ac.signal });
  ac.abort();
  log('pending', 'aborted', s.listening);
  s.on('close', () => setImmediate(next));
});
for (const [side, opts] of [['pre-ip', { port: 0, host: '127.0.0.1' }],
  ['pre-path', { path: 'abort.sock' }], ['pre-inuse', { port: -1, host: '127.0.0.1' }]]) {
  steps.push((next) => {
    const s = trace(side, net.createServer());
    const o = { ...opts, signal: AbortSignal.abort() };
    if (o.port === -1) { o.port = blocked; delete o.host; }
    s.listen(o, () => log(side, 'listen cb'));
    s.on('close', () => setImmediate(next));
  });
}
steps.push((next) => {
  const ac = new AbortController();
  const s = trace('conn', net.createServer((c) => {
    log('conn', 'connection');
    ac.abort();
    log('conn', 'aborted', s.listening);
    setTimeout(() => c.destroy(), 20);
  }));
  s.listen({ port: 0, host: '127.0.0.1', signal: ac.signal }, () => {
    net.connect(s.address().port, '127.0.0.1').on('error', () => {});
  });
  s.on('close', () => setImmediate(next));
});
steps.push((next) => {
  const ac = new AbortController();
  const s = trace('after', net.createServer());
  s.listen({ port: 0, host: '127.0.0.1', signal: ac.signal }, () => s.close());
  s.on('close', () => setImmediate(() => { ac.abort(); log('after', 'aborted'); setImmediate(next); }));
});
steps.push((next) => {
  const ac = new AbortController();
  const s = trace('failed', net.createServer());
  s.listen({ port: blocked, host: '127.0.0.1', signal: ac.signal });
  s.on('error', () => setImmediate(() => { ac.abort(); log('failed', 'aborted'); }));
  s.on('close', () => setImmediate(next));
});
