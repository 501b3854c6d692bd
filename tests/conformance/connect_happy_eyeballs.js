// Item 5 of issue 8: Happy Eyeballs (autoSelectFamily, on by default in Node
// 20) with a custom lookup that answers several addresses: one 'lookup' per
// address, duplicates dropped, families interleaved starting with the first
// address's, connectionAttempt/connectionAttemptFailed per attempt, the list
// of attempted addresses, Node's AggregateError when all fail, and the single
// attempt of autoSelectFamily: false, a family, or one usable address; a
// local bind that fails fails only its attempt.
'use strict';
const { net, log, traceSocket, traceAttempts, deadline, named, errDetail } = require('./common');
deadline();

function lookupOf(side, addrs) {
  return (host, opts, cb) => {
    log(side, 'resolver', host, opts.family ?? 0, opts.hints, !!opts.all);
    setImmediate(() => {
      if (opts.all) cb(null, addrs);
      else cb(null, addrs[0].address, addrs[0].family);
    });
  };
}

function attempted(s) {
  const a = s.autoSelectFamilyAttemptedAddresses;
  return a && a.length ? a.join(',').split(String(port)).join('PORT') : '-';
}

let port;
const v4 = (address) => ({ address, family: 4 });
const v6 = (address) => ({ address, family: 6 });

function run(side, opts, addrs, next) {
  const c = net.connect({ port, host: 'example.invalid', lookup: lookupOf(side, addrs), ...opts });
  traceSocket(c, side);
  traceAttempts(c, side);
  c.on('connect', () => {
    log(side, 'attempted', attempted(c), 'remote', c.remoteAddress);
    c.destroy();
  });
  c.on('error', (e) => log(side, 'detail', errDetail(e)));
  c.on('close', () => {
    log(side, 'attempted', attempted(c));
    next();
  });
}

const server = net.createServer((c) => c.destroy());
server.listen(0, '127.0.0.1', () => {
  port = server.address().port;
  named('PORT', port);
  net.createServer().listen(0, '127.0.0.1', function () {
    const free = this.address().port;
    named('FREE', free);
    this.close(() => {
      const steps = [
        ['a', {}, [v6('::1'), v6('::1'), v4('127.0.0.2'), v4('127.0.0.1')]],
        ['b', {}, [v4('127.0.0.2'), v6('::1'), v4('127.0.0.3')]],
        ['c', { autoSelectFamily: false }, [v6('::1'), v4('127.0.0.1')]],
        ['d', { family: 4 }, [v4('127.0.0.1'), v4('127.0.0.2')]],
        ['e', { localPort: free }, [v4('127.0.0.2'), v6('::1')]],
        ['f', {}, [v4('1.2.3'), { address: '127.0.0.2', family: 5 }, v4('127.0.0.1')]],
        ['g', {}, [v6('127.0.0.1'), v4('127.0.0.1')]],
        ['h', { autoSelectFamily: true }, [v4('127.0.0.2'), v4('127.0.0.1')]],
        // A busy localPort fails each attempt's bind: no connectionAttempt, errors 'bind'.
        ['i', { localPort: port }, [v4('127.0.0.2'), v6('::1')]],
      ];
      const next = () => {
        const step = steps.shift();
        if (step) run(step[0], step[1], step[2], next);
        else server.close();
      };
      next();
    });
  });
});
