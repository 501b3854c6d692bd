// Item 4 of issue 8: ipv6Only. Without a host it is ignored (dual stack:
// 127.0.0.1 connects); with host '::' the server is IPv6 only (127.0.0.1 is
// refused, ::1 connects).
// conformance: strict-order
'use strict';
const { net, log, deadline } = require('./common');
deadline();

function tryConnect(side, port, host, next) {
  const c = net.connect(port, host);
  c.on('connect', () => { log(side, host, 'connect'); c.destroy(); });
  c.on('error', (e) => log(side, host, 'error', e.code));
  c.on('close', next);
}

function run(side, opts, next) {
  const srv = net.createServer((s) => s.destroy());
  srv.listen(opts, () => {
    const a = srv.address();
    log(side, 'listening', a.address, a.family);
    tryConnect(side, a.port, '127.0.0.1', () =>
      tryConnect(side, a.port, '::1', () => srv.close(next)));
  });
}

run('nohost', { port: 0, ipv6Only: true }, () =>
  run('any6', { port: 0, host: '::', ipv6Only: true }, () =>
    run('any6-dual', { port: 0, host: '::' }, () => log('done'))));
