// What node v20 reports for a reset of tests/fault_proxy.c, to compare with test_fault_proxy:
//   node tests/node/fault_proxy_oracle.js build/tests/test_fault_proxy tcp|tls STAGE [N] [download]
// STAGE is fault_proxy_reset_t's number (1 at accept, 2/3 after N bytes c2s/s2c, 4/5 at the
// client's/server's FIN, 6 after the ClientHello, 7 after the server's first flight). An echo
// of 1 MiB as test_fault_proxy's (1 KiB first, the rest once it is back, end once all is
// back), or with "download" the server sends 1 MiB and ends. Prints each end's events.
'use strict';
const net = require('net'), tls = require('tls'), { spawn, execFileSync } = require('child_process');
const fs = require('fs'), os = require('os'), path = require('path');
const [fp, kind, stage, n = '0', mode = 'echo'] = process.argv.slice(2);
const SIZE = 1 << 20, FIRST = 1024;
let key, cert;
if (kind === 'tls') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fp-oracle-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', `${dir}/k`, '-out', `${dir}/c`, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  key = fs.readFileSync(`${dir}/k`); cert = fs.readFileSync(`${dir}/c`);
  fs.rmSync(dir, { recursive: true });
}
const sev = [], cev = [];
const err = (e) => `error:${e.code}:${e.syscall}`;
function serve(s) {
  s.on('error', (e) => sev.push(err(e)));
  s.on('end', () => sev.push('end'));
  s.on('close', (h) => sev.push(`close:${h}`));
  if (mode === 'download') { s.write(Buffer.alloc(SIZE, 7)); s.end(); return; }
  s.on('data', (d) => { if (!s.write(d)) { s.pause(); s.once('drain', () => s.resume()); } });
}
const srv = kind === 'tls'
  ? tls.createServer({ key, cert }, (s) => { sev.push('secureConnection'); serve(s); })
  : net.createServer(serve);
srv.on('tlsClientError', (e) => sev.push(`tlsClientError:${e.code}:${e.syscall}`));
srv.listen(0, '127.0.0.1', () => {
  const px = spawn(fp, ['--serve', stage, n, String(srv.address().port)],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  px.stdout.once('data', (d) => {
    const o = { port: +d.toString().trim(), host: '127.0.0.1', ca: cert };
    const c = kind === 'tls' ? tls.connect(o) : net.connect(o);
    let got = 0, sent = 0;
    const more = () => {
      while (sent < SIZE && (sent === 0 || got >= FIRST)) {
        const len = sent === 0 ? FIRST : Math.min(65536, SIZE - sent);
        sent += len;
        if (!c.write(Buffer.alloc(len, 1))) return c.once('drain', more);
      }
    };
    c.on(kind === 'tls' ? 'secureConnect' : 'connect', () => {
      cev.push(kind === 'tls' ? 'secureConnect' : 'connect');
      if (mode !== 'download') more();
    });
    c.on('data', (b) => {
      const before = got;
      got += b.length;
      if (mode === 'download') return;
      if (got === SIZE) c.end();
      else if (before < FIRST && got >= FIRST) more();
    });
    c.on('end', () => cev.push('end'));
    c.on('error', (e) => cev.push(err(e)));
    c.on('close', (h) => {
      cev.push(`close:${h}`);
      setTimeout(() => {
        console.log(`client: ${cev.join(' ')} (got ${got})\nserver: ${sev.join(' ')}`);
        srv.close();
        px.stdin.end();
      }, 200);
    });
  });
});
