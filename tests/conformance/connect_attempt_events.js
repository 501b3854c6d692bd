// Item 5 of issue 8: every connect(2) is announced by 'connectionAttempt' and a
// failed one reported by 'connectionAttemptFailed', also without Happy
// Eyeballs: for an IP literal, a looked-up name and a Unix socket path
// (address = the path, port and family undefined). Paths are relative: run.sh
// runs each side in a fresh temp directory.
'use strict';
const { net, log, traceSocket, traceAttempts, deadline, named } = require('./common');
deadline();

function run(side, args, next) {
  const c = new net.Socket();
  traceSocket(c, side);
  traceAttempts(c, side);
  c.on('connect', () => c.destroy());
  c.on('close', next);
  c.connect(...args);
}

const server = net.createServer((c) => c.destroy());
server.listen('conn.sock', () => {
  const tcp = net.createServer((c) => c.destroy());
  tcp.listen(0, '127.0.0.1', () => {
    const port = tcp.address().port;
    named('PORT', port);
    const steps = [
      ['pipe', ['missing.sock']],
      ['pipeok', ['conn.sock']],
      ['ip', [port, '127.0.0.1']],
      ['name', [{ port, host: 'localhost', family: 4 }]],
    ];
    const next = () => {
      const step = steps.shift();
      if (step) {
        run(step[0], step[1], next);
      } else {
        server.close();
        tcp.close();
      }
    };
    next();
  });
});
