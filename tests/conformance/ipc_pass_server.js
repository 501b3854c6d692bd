// Issue 10 item 4: a listening server is sent to a child process
// (child.send(message, server)); the child gets a server already listening
// on the same socket and accepts on it once the parent closed its own.
'use strict';
const { net, log, esc, traceSocket, deadline } = require('./common');
const cp = require('child_process');

if (process.argv[2] === 'child') {
  // The child's lines are printed at the end, after the parent's (the sides
  // are grouped by their first line, and the two processes race).
  deadline();
  const lines = [];
  const clog = (...parts) => lines.push(parts.join(' '));
  let server;
  process.on('message', (m, srv) => {
    server = srv;
    clog('child message', m, srv ? 'server' : '-', srv.listening);
    srv.on('connection', (s) => {
      clog('child connection');
      let seen = '';
      s.on('data', (d) => { seen += d; s.write(d); });
      s.on('end', () => { clog('child end', esc(seen)); s.end(); });
    });
    srv.on('close', () => {
      clog('child server close');
      for (const l of lines) log(l);
    });
  });
  process.on('disconnect', () => { clog('child disconnect'); server.close(); });
  return;
}

deadline();
const child = cp.fork(__filename, ['child']);
const server = net.createServer();
server.on('listening', () => log('server listening'));
server.on('close', () => {
  log('server close');
  const client = net.connect(port, '127.0.0.1', () => { client.write('ping'); client.end(); });
  traceSocket(client, 'client', { data: false });
  let got = '';
  client.on('data', (d) => { got += d; });
  client.on('end', () => log('client received', esc(got)));
  client.on('close', () => child.disconnect());
});
let port;
server.listen(0, '127.0.0.1', () => {
  port = server.address().port;
  child.send('srv', server, (err) => {
    log('server sent', err ? err.code : '-', server.listening);
    server.close();
  });
});
