// The seeds' echo server and client (003: net.createServer, net.createConnection):
// the server writes "hello\r\n" and pipes the socket to itself; the client
// writes "world!\r\n" on connect and ends on its first data.
'use strict';
const { net, log, esc, traceSocket, traceServer, deadline } = require('./common');
deadline();

const server = net.createServer((c) => {
  c.write('hello\r\n');
  c.pipe(c);
});
traceServer(server, 'server', { peer: 'peer' });
server.listen(0, '127.0.0.1', () => {
  const client = net.createConnection({ port: server.address().port, host: '127.0.0.1' }, () => {
    client.write('world!\r\n');
  });
  traceSocket(client, 'client', { data: false });
  let got = '';
  client.once('data', () => client.end());
  client.on('data', (d) => { got += d; });
  client.on('end', () => log('client received', esc(got)));
  client.on('close', () => server.close());
});
