// Item 5 of issue 8, timers: an attempt that does not finish within
// autoSelectFamilyAttemptTimeout is abandoned (connectionAttemptTimeout, an
// ETIMEDOUT in the AggregateError) and the next address is tried; the last
// attempt has no timeout; a destroy during an attempt reports it as
// connectionAttemptFailed ECANCELED (Node's afterConnectMultiple), a destroy
// inside connectionAttemptTimeout reports nothing more. The address that never
// answers is a loopback listener with a full accept queue (blackhole()).
'use strict';
const { net, log, traceSocket, traceAttempts, deadline, named, errDetail, blackhole } =
  require('./common');
deadline();

const v4 = (address) => ({ address, family: 4 });
const v6 = (address) => ({ address, family: 6 });

blackhole('127.0.0.1', (port, done) => {
  named('PORT', port);
  const server = net.createServer((c) => c.destroy());
  server.listen(port, '::1', () => {
    const steps = [
      ['a', 20, 0, null, [v4('127.0.0.1'), v6('::1')]],
      ['b', 20, 0, null, [v4('127.0.0.1'), v4('127.0.0.2')]],
      ['c', 2000, 100, null, [v4('127.0.0.1'), v6('::1')]],
      ['d', 20, 0, 'connectionAttemptTimeout', [v4('127.0.0.1'), v6('::1')]],
      ['e', 10, 150, null, [v4('127.0.0.2'), v4('127.0.0.1')]],
    ];
    const next = () => {
      const step = steps.shift();
      if (!step) {
        server.close();
        done();
        return;
      }
      const [side, attemptTimeout, idle, destroyOn, addrs] = step;
      const c = net.connect({
        port, host: 'example.invalid', autoSelectFamilyAttemptTimeout: attemptTimeout,
        lookup: (host, opts, cb) => setImmediate(() => cb(null, addrs)),
      });
      traceSocket(c, side);
      traceAttempts(c, side);
      if (idle) c.setTimeout(idle, () => c.destroy());
      if (destroyOn) c.on(destroyOn, () => c.destroy());
      c.on('connect', () => c.destroy());
      c.on('error', (e) => log(side, 'detail', errDetail(e)));
      c.on('close', next);
    };
    next();
  });
});
