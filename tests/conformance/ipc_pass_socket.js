// Issue 10 item 4: a connection accepted with pauseOnConnect is sent to a
// child process (child.send(message, socket)), which echoes it. Bytes the
// client sent before the handoff reach the child; the parent's server stops
// counting the socket at once (server._connections) while getConnections()
// counts it in the child; server.close() waits for the child's socket.
// (The sender's socket is not traced: node never emits its 'close', cnet
// does, see docs/node-differences.md.)
'use strict';
const { net, log, esc, traceSocket, deadline } = require('./common');
const cp = require('child_process');

if (process.argv[2] === 'child') {
  // The child's lines are printed at 'disconnect', after the parent's (the
  // sides are grouped by their first line, and the two processes race).
  deadline();
  const lines = [];
  const clog = (...parts) => lines.push(parts.join(' '));
  process.on('message', (m, s) => {
    clog('child message', m, s ? 'socket' : '-');
    let seen = '';
    s.on('data', (d) => { seen += d; s.write(d); });
    s.on('end', () => { clog('child end', esc(seen)); s.end(); });
    s.on('close', (h) => clog('child close', h));
  });
  process.on('disconnect', () => {
    clog('child disconnect');
    for (const l of lines) log(l);
  });
  return;
}

deadline();
const child = cp.fork(__filename, ['child']);
const server = net.createServer({ pauseOnConnect: true });
server.on('listening', () => log('server listening'));
server.on('close', () => { log('server close'); child.disconnect(); });
server.on('connection', (s) => {
  log('server connection', server._connections);
  child.send('conn', s, (err) => {
    log('server sent', err ? err.code : '-');
    server.getConnections((e, n) => {
      log('server getConnections', e ? e.code : '-', n);
      client.write('world');
      client.end();
    });
  });
  log('server connections', server._connections);
});
let client;
server.listen(0, '127.0.0.1', () => {
  client = net.connect(server.address().port, '127.0.0.1', () => client.write('hello '));
  traceSocket(client, 'client', { data: false });
  let got = '';
  client.on('data', (d) => { got += d; });
  client.on('end', () => log('client received', esc(got)));
  client.on('close', () => server.close());
});
