// The v0.2 seeds' echo server (000: setEncoding('utf8'), "hello\r\n" first,
// every line echoed, "goodbye\r\n" and end() at the peer's end), as the
// README's `make demo` runs it, talked to by a client that sends one line
// and half-closes.
'use strict';
const { net, log, esc, traceSocket, traceServer, deadline } = require('./common');
deadline();

const server = net.createServer((stream) => {
  stream.setEncoding('utf8');
  stream.write('hello\r\n');
  stream.on('data', (data) => stream.write(data));
  stream.on('end', () => {
    stream.write('goodbye\r\n');
    stream.end();
  });
});
traceServer(server, 'server', { peer: 'peer' });
server.listen(0, 'localhost', () => {
  const client = net.connect(server.address().port, 'localhost');
  traceSocket(client, 'client', { data: false });
  client.on('connect', () => client.end('world\r\n'));
  let got = '';
  client.on('data', (d) => { got += d; });
  client.on('end', () => log('client received', esc(got)));
  client.on('close', () => server.close());
});
