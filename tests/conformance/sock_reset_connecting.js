// resetAndDestroy() (issue 8, item 8): on a socket still connecting Node
// waits for 'connect' (listeners added before the call run first, 'ready'
// still follows), then resets: the peer reads ECONNRESET; pending is true
// again after close. On a Unix socket it throws ERR_INVALID_HANDLE_TYPE
// (cnet returns it); on a socket that never connected it is
// destroy(new ERR_SOCKET_CLOSED()). The parts run one after the other, so
// that each side's lines come in the same order in both traces.
'use strict';
const { net, log, traceServer, deadline } = require('./common');
const fs = require('fs');
const os = require('os');
const path = require('path');
deadline();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conf-reset-'));
const server = net.createServer();
traceServer(server, 'server', { peer: 'peer' });
const unixServer = net.createServer((c) => c.on('end', () => c.end()));
let closes = 0;
const done = () => { if (++closes === 3) { server.close(); unixServer.close(); fs.rmSync(dir, { recursive: true }); } };

server.listen(0, '127.0.0.1', () => {
  const c = net.connect({ port: server.address().port, host: '127.0.0.1' }, () =>
    log('client connect early destroyed', c.destroyed));
  c.resetAndDestroy();
  log('client after-reset destroyed', c.destroyed, 'connecting', c.connecting, 'pending', c.pending);
  c.on('connect', () => log('client connect late destroyed', c.destroyed));
  c.on('ready', () => log('client ready destroyed', c.destroyed));
  c.on('error', (e) => log('client error', e.code));
  c.on('close', (h) => { log('client close', h, 'pending', c.pending); done(); unixPart(); });
});

const unixPart = () => unixServer.listen(path.join(dir, 's'), () => {
  const u = net.connect(path.join(dir, 's'), () => {
    try { u.resetAndDestroy(); } catch (e) { log('unix reset', e.code); }
    log('unix destroyed', u.destroyed);
    u.end();
  });
  try { u.resetAndDestroy(); } catch (e) { log('unix reset-connecting', e.code); }
  u.on('close', () => { log('unix close'); done(); });
});

const f = new net.Socket();
f.on('error', (e) => log('fresh error', e.code, e.message));
f.on('close', () => { log('fresh close pending', f.pending); done(); });
f.resetAndDestroy();
log('fresh destroyed', f.destroyed);
