// Item 5 of issue 8: readableAll / writableAll add permission bits to the
// socket file's mode (libuv's uv_pipe_chmod: stat, add, chmod); the bits
// the umask left stay. Under umask 077 the file is 700 without options.
// conformance: strict-order
'use strict';
const fs = require('fs');
const { net, log, deadline } = require('./common');
deadline();
process.umask(0o077);

const cases = [
  ['none', {}],
  ['readable', { readableAll: true }],
  ['writable', { writableAll: true }],
  ['both', { readableAll: true, writableAll: true }],
];

function run(i) {
  if (i === cases.length) return;
  const [name, opts] = cases[i];
  const path = `mode-${name}.sock`;
  const srv = net.createServer();
  srv.listen({ path, ...opts }, () => {
    log(name, (fs.statSync(path).mode & 0o7777).toString(8));
    srv.close(() => run(i + 1));
  });
}
run(0);
