// Node's answers for the TLS differential tests (tests/test_tls_*_differential.c).
//
//   node tls_oracle.js CASES.json
//
// CASES.json is {"mode": M, "cases": [...]}; one JSON line is printed per case,
// with keys in a fixed order so that the C side can print the same line.
//   cert   {pem, hosts}: new X509Certificate(pem).toLegacyObject() (the object
//          getPeerCertificate() returns) and tls.checkServerIdentity(host, it)
//   ctx    {key, cert, ca, crl, passphrase, ciphers, minVersion, maxVersion}:
//          what tls.createSecureContext() throws
//   chain  {key, cert, ca, servername}: a TLS server on 127.0.0.1 and a client
//          trusting ca; the client's getPeerCertificate(true), link by link
'use strict';

const fs = require('fs');
const tls = require('tls');
const { X509Certificate } = require('crypto');

const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

function certObject(c) {
  const o = { subject: c.subject, issuer: c.issuer };
  if (c.subjectaltname !== undefined) o.subjectaltname = c.subjectaltname;
  o.ca = c.ca;
  if (c.bits !== undefined) o.bits = c.bits;
  o.valid_from = c.valid_from;
  o.valid_to = c.valid_to;
  o.not_before = Date.parse(c.valid_from) / 1000;
  o.not_after = Date.parse(c.valid_to) / 1000;
  o.serialNumber = c.serialNumber;
  o.fingerprint = c.fingerprint;
  o.fingerprint256 = c.fingerprint256;
  o.fingerprint512 = c.fingerprint512;
  o.raw = c.raw.toString('base64');
  return o;
}

function identity(host, cert) {
  try {
    const err = tls.checkServerIdentity(host, cert);
    if (!err) return { host, ok: true };
    return { host, code: err.code, reason: err.reason, message: err.message };
  } catch (e) {
    return { host, code: e.code, thrown: true };
  }
}

function certCase(c) {
  const legacy = new X509Certificate(c.pem).toLegacyObject();
  return { cert: certObject(legacy), identity: c.hosts.map((h) => identity(h, legacy)) };
}

function ctxCase(c) {
  const opts = {};
  for (const k of ['key', 'cert', 'ca', 'crl', 'passphrase', 'ciphers', 'minVersion',
    'maxVersion']) {
    if (c[k] !== undefined && c[k] !== null) opts[k] = c[k];
  }
  try {
    tls.createSecureContext(opts);
    return { ok: true };
  } catch (e) {
    return { code: e.code, message: e.message };
  }
}

function chainCase(c) {
  return new Promise((resolve) => {
    const srv = tls.createServer({ key: c.key, cert: c.cert }, (s) => s.end());
    srv.on('tlsClientError', () => {});
    srv.listen(0, '127.0.0.1', () => {
      const sock = tls.connect({
        port: srv.address().port, host: '127.0.0.1', ca: c.ca, servername: c.servername,
        rejectUnauthorized: false,
      }, () => {
        const links = [];
        let self = false;
        for (let x = sock.getPeerCertificate(true); x && x.raw;) {
          links.push(certObject(x));
          if (x.issuerCertificate === x) {
            self = true;
            break;
          }
          x = x.issuerCertificate;
        }
        sock.destroy();
        srv.close(() => resolve({
          authorized: sock.authorized, authorizationError: sock.authorizationError || null,
          self, chain: links,
        }));
      });
      sock.on('error', (e) => {
        srv.close(() => resolve({ error: e.code }));
      });
    });
  });
}

(async () => {
  for (const c of input.cases) {
    let out;
    if (input.mode === 'cert') out = certCase(c);
    else if (input.mode === 'ctx') out = ctxCase(c);
    else out = await chainCase(c);
    process.stdout.write(JSON.stringify(out) + '\n');
  }
})();
