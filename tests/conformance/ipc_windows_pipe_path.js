// Item 6 of issue 10: Windows named-pipe paths (\\.\pipe\NAME, \\?\pipe\NAME).
// On Linux node treats them as ordinary Unix socket paths (a file of that
// name in the current directory, here run.sh's temp dir): listen, address(),
// connect, and the file removed at close. cnet does the same.
// conformance: strict-order
'use strict';
const { net, log, deadline } = require('./common');
const fs = require('fs');
deadline();

const paths = ['\\\\.\\pipe\\cnet-conf-a', '\\\\?\\pipe\\cnet-conf-b'];
function next(i) {
  if (i === paths.length) return;
  const p = paths[i];
  const s = net.createServer((c) => c.end('hi'));
  s.listen(p, () => {
    log('server', 'listening', s.address(), fs.existsSync(p));
    const c = net.connect(p);
    c.on('data', (d) => log('client', 'data', String(d)));
    c.on('close', () => {
      log('client', 'close');
      s.close(() => {
        log('server', 'close', fs.existsSync(p));
        next(i + 1);
      });
    });
  });
}
next(0);
