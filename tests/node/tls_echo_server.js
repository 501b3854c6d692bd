// node's tls server for tests/test_tls_interop.c: one connection, then exit.
//   node tls_echo_server.js KEY CERT MAX_VERSION
// Prints "PORT <n>" once listening; for the connection, its protocol, ALPN
// protocol and SNI name; echoes what it reads; "node-end" at the client's
// end (close_notify, then FIN), and ends its side too.
'use strict';
const fs = require('fs');
const tls = require('tls');
const [key, cert, maxVersion] = process.argv.slice(2);
const server = tls.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert),
  maxVersion, ALPNProtocols: ['h2', 'http/1.1'] }, (s) => {
  console.log('node-secure', s.getProtocol(), s.alpnProtocol, s.servername);
  s.on('data', (d) => s.write(d));
  s.on('end', () => console.log('node-end'));
  s.on('close', () => server.close());
});
server.on('tlsClientError', (e) => console.log('node-tlsClientError', e.code));
server.listen(0, '127.0.0.1', () => console.log('PORT', server.address().port));
setTimeout(() => { console.log('node-timeout'); process.exit(1); }, 10000).unref();
