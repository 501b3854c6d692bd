// node's tests/netns_peer.c, for checking tests/test_netns.sh against node v20:
//   NETNS_NODE=1 bash tests/test_netns.sh <source_dir> <build_dir>
// Same arguments and output. --keepintvl and --keepcnt are ignored: node has no option for
// them (setKeepAlive fixes 1 s and 10 probes), so a dead peer takes about 11 s here.
'use strict';
const net = require('net');
const [role, host, port, ...rest] = process.argv.slice(2);
const o = {};
for (let i = 0; i < rest.length; i++) {
  const a = rest[i].slice(2);
  if (['keepalive', 'timeout', 'keepintvl', 'keepcnt'].includes(a)) o[a] = +rest[++i];
  else o[a] = true;
}
const ev = [], t0 = Date.now();
const add = (x) => { ev.push(x); console.error(`netns_peer.js: +${Date.now() - t0} ms ${x}`); };
const chunk = Buffer.alloc(16384, 120);
let srv;
function watch(s) {
  let got = 0, said = false, pong = '';
  const more = () => { while (s.write(chunk)); };
  s.on('connect', () => {
    add('connect');
    if (o.stream) more();
    if (o.ping) s.write('ping\n');
  });
  s.on('drain', () => { if (o.stream) more(); });
  s.on('data', (d) => {
    got += d.length;
    if (got >= 65536 && !said) { said = true; console.log('receiving'); }
    if (o.echo) s.write(d);
    if (o.ping) { pong += d; if (pong === 'ping\n') { add('pong'); s.end(); } }
  });
  s.on('end', () => add('end'));
  s.on('timeout', () => { add('timeout'); if (o['destroy-on-timeout']) s.destroy(); });
  s.on('error', (e) => { add(`error:${e.code}:${e.syscall}`); console.error(e.message); });
  s.on('close', (h) => {
    add(`close:${h ? 1 : 0}`);
    console.log('EVENTS ' + ev.join(' '));
    if (srv) srv.close();
  });
}
if (role === 'server') {
  srv = net.createServer((s) => {
    watch(s);
    if (o.keepalive) s.setKeepAlive(true, o.keepalive);
    if (o.timeout) s.setTimeout(o.timeout);
    add('connection');
    if (o.stream) while (s.write(chunk));
  });
  srv.listen(+port, host, () => console.log('listening'));
} else {
  const s = net.connect({ port: +port, host, timeout: o.timeout || undefined });
  if (o.keepalive) s.setKeepAlive(true, o.keepalive);
  watch(s);
}
