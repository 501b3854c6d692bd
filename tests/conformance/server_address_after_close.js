// Item 3 of issue 8: address() when not listening. A TCP server gives null
// after close; a Unix server keeps giving its path (Node's _pipeName):
// before 'listening', after close, and even after it listened on TCP and
// closed again.
// conformance: strict-order
'use strict';
const { net, log, deadline } = require('./common');
deadline();

const show = (side, when, srv) => {
  const a = srv.address();
  log(side, when, a === null ? 'null' : typeof a === 'string' ? a : `${a.address} ${a.family}`);
};

const t = net.createServer();
t.listen(0, '127.0.0.1', () => {
  show('tcp', 'listening', t);
  t.close(() => {
    show('tcp', 'closed', t);
    const u = net.createServer();
    u.listen('addr.sock', () => {
      show('unix', 'listening', u);
      u.close(() => {
        show('unix', 'closed', u);
        u.listen(0, '127.0.0.1', () => {
          show('unix', 'tcp-listening', u);
          u.close(() => show('unix', 'tcp-closed', u));
        });
      });
      show('unix', 'closing', u);
    });
    show('unix', 'after-listen', u);
  });
  show('tcp', 'closing', t);
});
