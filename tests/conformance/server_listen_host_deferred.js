// Item 1 of issue 8: when does listen() bind? With a host, even an IP
// literal, on a later tick: not listening and no address() until
// 'listening', and a bind error arrives as 'error'. Without a host, or with
// a path, at once. Each server runs after the previous one closed.
'use strict';
const { net, log, errStr, deadline } = require('./common');
deadline();

function state(side, srv, when) {
  log(side, when, srv.listening, srv.address() === null ? 'null' : 'address');
}

function run(side, args, next) {
  const srv = net.createServer();
  srv.on('listening', () => {
    state(side, srv, 'listening');
    srv.close();
  });
  srv.on('error', (e) => {
    log(side, 'error', errStr(e));
    state(side, srv, 'after-error');
    srv.close();
  });
  srv.on('close', () => { log(side, 'close'); next(); });
  srv.listen(...args);
  state(side, srv, 'after-listen');
}

const blocker = net.createServer();
blocker.listen(0, '127.0.0.1', () => {
  const port = blocker.address().port;
  run('ip4', [0, '127.0.0.1'], () =>
    run('ip6', [0, '::1'], () =>
      run('name', [0, 'localhost'], () =>
        run('nohost', [0], () =>
          run('path', ['listen.sock'], () =>
            run('inuse', [port, '127.0.0.1'], () =>
              run('inuse-nohost', [port], () => blocker.close())))))));
});
