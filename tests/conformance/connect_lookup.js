// Item 6 of issue 8: the `lookup` connect option. The resolver gets Node's
// options (family, hints with ADDRCONFIG added when neither family nor hints
// are given, all: true with autoSelectFamily); its answer is checked as Node
// does (ERR_INVALID_IP_ADDRESS, ERR_INVALID_ADDRESS_FAMILY, an error passed
// through) with 'lookup' events in both modes; and getaddrinfo gets the
// hints too (V4MAPPED: localhost as ::ffff:127.0.0.1).
'use strict';
const { net, log, traceSocket, traceAttempts, deadline, named, errDetail } = require('./common');
const dns = require('dns');
deadline();

const v4 = (address) => ({ address, family: 4 });
let port;

function resolver(side, answer) {
  return (host, opts, cb) => {
    log(side, 'resolver', host, opts.family ?? 0, opts.hints, !!opts.all);
    setImmediate(() => {
      const [err, addrs] = answer;
      if (err) cb(err);
      else if (opts.all) cb(null, addrs);
      else if (addrs.length) cb(null, addrs[0].address, addrs[0].family);
      else cb(null);
    });
  };
}

function run(side, opts, answer, detail, next) {
  let c;
  const o = { port, host: 'example.invalid', ...opts };
  if (answer) o.lookup = resolver(side, answer);
  try {
    c = net.connect(o);
  } catch (e) {
    log(side, 'throws', e.code);
    next();
    return;
  }
  traceSocket(c, side);
  traceAttempts(c, side);
  c.on('connect', () => {
    log(side, 'remote', c.remoteAddress);
    c.destroy();
  });
  if (detail) c.on('error', (e) => log(side, 'detail', errDetail(e)));
  c.on('close', next);
}

const notFound = Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
const server = net.createServer((c) => c.destroy());
server.listen(0, '127.0.0.1', () => {
  port = server.address().port;
  named('PORT', port);
  const steps = [
    ['badip', { family: 4 }, [null, [v4('1.2.3')]], true],
    ['badfam', { family: 4 }, [null, [{ address: '127.0.0.1', family: 5 }]], true],
    ['badfamnohost', { family: 4, host: undefined }, [null, [{ address: '127.0.0.1', family: 5 }]], true],
    ['none', { family: 4 }, [null, []], true],
    ['err', { family: 4 }, [notFound], false],
    ['merr', {}, [notFound], false],
    ['mbadip', {}, [null, [v4('1.2.3'), { address: '127.0.0.1', family: 5 }]], true],
    ['mbadfam', {}, [null, [{ address: '127.0.0.1', family: 5 }, v4('1.2.3')]], true],
    ['hints', { family: 6, hints: dns.ADDRCONFIG | dns.V4MAPPED }, [null, [v4('127.0.0.1')]], true],
    ['hintsall', { hints: dns.ALL }, [null, [v4('127.0.0.1')]], true],
    ['noauto', { autoSelectFamily: false }, [null, [v4('127.0.0.1')]], true],
    // An IPv4 text claimed as family 6: Node's connect6() fails at once (EINVAL).
    ['mismatch', { family: 6 }, [null, [{ address: '127.0.0.1', family: 6 }]], false],
    ['gai', { host: 'localhost' }, null, true],
    ['gaisingle', { host: 'localhost', autoSelectFamily: false }, null, true],
    ['gaimapped', { host: 'localhost', family: 6, hints: dns.V4MAPPED }, null, true],
    ['gaibadhints', { host: 'localhost', hints: 1024 }, null, true],
    ['ip', { host: '127.0.0.1', hints: 1024 }, null, true],
  ];
  const next = () => {
    const step = steps.shift();
    if (step) run(step[0], step[1], step[2], step[3], next);
    else server.close();
  };
  next();
});
