// Item 2 of issue 8: close(cb) on a server that is not running. The
// callback alone gets ERR_SERVER_NOT_RUNNING ('close' listeners get no
// error), and every close() made while no connection is open is followed
// by its own 'close': twice in a row, and from inside a 'close' listener.
// With a connection open, a second close(cb) adds no 'close'. (The order of
// the server's 'close' and its last connection's differs on purpose: cnet's
// comes after the connection's, docs/design.md; it is not printed.)
// conformance: strict-order
'use strict';
const { net, log, deadline } = require('./common');
deadline();

const cb = (side, name) => (err) => log(side, name, err ? err.code : '-');

function twice(next) {
  // A: listening, closed twice in 'listening', then once more from 'close'.
  const a = net.createServer();
  let closes = 0;
  a.on('close', () => {
    log('a', 'close', ++closes);
    if (closes === 2) a.close(cb('a', 'cb3'));
    if (closes === 3) next();
  });
  a.listen(0, '127.0.0.1', () => {
    a.close(cb('a', 'cb1'));
    a.close(cb('a', 'cb2'));
    log('a', 'closed twice', a.listening);
  });
}

function never(next) {
  // B: never listened.
  const b = net.createServer();
  b.on('close', () => log('b', 'close'));
  b.close(cb('b', 'cb1'));
  b.once('close', next);
}

function withConnection(next) {
  // C: two close(cb) while a connection is open: one 'close' after it.
  const c = net.createServer((conn) => {
    log('c', 'connection');
    c.close(cb('c', 'cb1'));
    c.close(cb('c', 'cb2'));
    conn.destroy();
  });
  c.on('close', () => { log('c', 'close'); next(); });
  c.listen(0, '127.0.0.1', () => {
    net.connect(c.address().port, '127.0.0.1').on('error', () => {});
  });
}

function pending(next) {
  // D: closed while the bind on an IP literal is still pending.
  const d = net.createServer();
  d.on('listening', () => log('d', 'listening'));
  d.on('close', () => { log('d', 'close', d.listening); next(); });
  d.listen(0, '127.0.0.1');
  d.close(cb('d', 'cb1'));
}

twice(() => never(() => withConnection(() => pending(() => log('done')))));
