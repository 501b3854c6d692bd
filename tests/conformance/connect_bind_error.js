// Item 2 of issue 8: a failed local bind (localAddress/localPort busy, not on
// this machine, or of the other family) is reported with syscall 'bind' and
// the local address and port, before any connectionAttempt; a connect error
// of a socket bound to a local port carries Node's " - Local (addr:port)".
'use strict';
const { net, log, traceSocket, traceAttempts, deadline, named, errDetail } = require('./common');
deadline();

function freePort(cb) {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => cb(p));
  });
}

function run(side, opts, next) {
  const c = net.connect(opts);
  traceSocket(c, side);
  traceAttempts(c, side);
  c.on('error', (e) => log(side, 'detail', errDetail(e)));
  c.on('close', next);
}

const busy = net.createServer().listen(0, '127.0.0.1', () => {
  const lp = busy.address().port;
  named('BUSY', lp);
  freePort((fp1) => freePort((fp2) => {
    named('FREE1', fp1);
    named('FREE2', fp2);
    const steps = [
      ['busy', { port: 1, host: '127.0.0.1', localAddress: '127.0.0.1', localPort: lp }],
      ['busyany', { port: 1, host: '127.0.0.1', localPort: lp }],
      ['family', { port: 1, host: '::1', localAddress: '127.0.0.1' }],
      ['family6', { port: 1, host: '127.0.0.1', localAddress: '::1', localPort: fp1 }],
      ['notlocal', { port: 1, host: '::1', localAddress: '::2' }],
      ['refusedlocal', { port: 1, host: '127.0.0.1', localAddress: '127.0.0.1', localPort: fp1 }],
      ['refusedport', { port: 1, host: '127.0.0.1', localPort: fp2 }],
      ['refusedaddr', { port: 1, host: '127.0.0.1', localAddress: '127.0.0.1' }],
    ];
    const next = () => {
      const step = steps.shift();
      if (step) run(step[0], step[1], next);
      else busy.close();
    };
    next();
  }));
});
