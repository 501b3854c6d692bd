// The onread socket option (issue 8). Client a reads into one 4-byte
// buffer, stops reading by returning false from its first callback and
// resumes from a write callback; client b uses a buffer function (3-byte
// buffers), called at connect and after every callback. Neither gets a
// 'data' event (setEncoding changes nothing), both get 'end'. The server
// sends "hello", then "world!!!" and its end once the client says "more".
'use strict';
const { net, log, esc, traceSocket, traceServer, deadline } = require('./common');
deadline();

const server = net.createServer((c) => {
  c.write('hello');
  let got = '';
  c.on('data', (d) => {
    got += d;
    if (got.includes('more')) c.end('world!!!');
  });
});
traceServer(server, 'server', { peer: 'peer', data: false });
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  let total = 0;
  const buf = Buffer.alloc(4);
  const a = net.connect({
    port, host: '127.0.0.1',
    onread: {
      buffer: buf,
      callback: (nread, b) => {
        total += nread;
        log('a onread', nread, esc(b.subarray(0, nread)), 'same', b === buf, 'paused', a.isPaused());
        if (total === 4) {
          a.write('x', () => {
            log('a resume', 'paused', a.isPaused());
            a.resume();
          });
          return false;
        }
        if (total === 5) a.write('more');
      },
    },
  });
  a.setEncoding('utf8');
  traceSocket(a, 'a');
  a.on('end', () => log('a bytesRead', a.bytesRead));
  a.on('close', () => {
    let gens = 0, btotal = 0;
    const b = net.connect({
      port, host: '127.0.0.1',
      onread: {
        buffer: () => { log('b gen', ++gens); return Buffer.alloc(3); },
        callback: (nread, bb) => {
          btotal += nread;
          log('b onread', nread, esc(bb.subarray(0, nread)));
          if (btotal === 5) b.write('more');
        },
      },
    });
    traceSocket(b, 'b');
    b.on('close', () => server.close());
  });
});
