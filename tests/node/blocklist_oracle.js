// Runs BlockList / SocketAddress operations in node and prints each one
// with node's answer, one line per operation: "<op>\t<answer>".
// Used by tests/test_blocklist.c (live part) and, once, to write
// tests/data/blocklist_cases.txt (the part that runs without node):
//   node tests/node/blocklist_oracle.js ops.txt > tests/data/blocklist_cases.txt
// Operations (fields separated by single spaces; "-" is "not given"):
//   new                               a fresh BlockList
//   addAddress A FAM | addRange A B FAM | addSubnet A PREFIX FAM
//   check A FAM                       -> true | false
//   rules                             -> the rules joined with '|'
//   sa A FAM PORT FLOWLABEL           -> "address port family flowlabel"
// Errors print as "err CODE".
'use strict';
const fs = require('fs');
const net = require('net');
const opt = (v) => (v === '-' ? undefined : v);
let bl = new net.BlockList();
const out = [];
for (const line of fs.readFileSync(process.argv[2], 'utf8').split('\n')) {
  if (!line) continue;
  const f = line.split(' ');
  let r;
  try {
    switch (f[0]) {
      case 'new': bl = new net.BlockList(); r = 'ok'; break;
      case 'addAddress': bl.addAddress(f[1], opt(f[2])); r = 'ok'; break;
      case 'addRange': bl.addRange(f[1], f[2], opt(f[3])); r = 'ok'; break;
      case 'addSubnet': bl.addSubnet(f[1], Number(f[2]), opt(f[3])); r = 'ok'; break;
      case 'check': r = String(bl.check(f[1], opt(f[2]))); break;
      case 'rules': r = bl.rules.join('|'); break;
      case 'sa': {
        const o = {};
        if (f[1] !== '-') o.address = f[1];
        if (f[2] !== '-') o.family = f[2];
        o.port = Number(f[3]);
        o.flowlabel = Number(f[4]);
        const a = new net.SocketAddress(o);
        r = `${a.address} ${a.port} ${a.family} ${a.flowlabel}`;
        break;
      }
      default: throw new Error('bad op ' + line);
    }
  } catch (e) {
    if (!e.code) throw e;
    r = 'err ' + e.code;
  }
  out.push(line + '\t' + r);
}
process.stdout.write(out.join('\n') + '\n');
