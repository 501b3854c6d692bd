// Item 4 of issue 8: net.connect() and net.createConnection() without options
// throw ERR_MISSING_ARGS; in C the call returns CNET_ERR_MISSING_ARGS and
// creates nothing.
'use strict';
const { net, log, deadline } = require('./common');
deadline();

for (const [name, fn] of [['connect', () => net.connect()],
  ['createConnection', () => net.createConnection()],
  ['socket.connect', () => new net.Socket().connect()]]) {
  try {
    fn();
    log(name, 'returned');
  } catch (e) {
    log(name, 'throws', e.code);
  }
}
