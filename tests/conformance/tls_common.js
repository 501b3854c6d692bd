// Shared by the tls_* scenarios (tests/conformance/README.md): the PEM files
// both sides use (node makes them first in the run's temp dir, the C side
// reuses them) and one line per TLS socket event, as tls_common.h prints.
'use strict';
const fs = require('fs');
const { execFileSync } = require('child_process');
const { log, esc } = require('./common');

// tls_key.pem / tls_cert.pem: self-signed, CN=localhost, DNS:localhost, IP:127.0.0.1.
function tlsFiles() {
  if (!fs.existsSync('tls_key.pem'))
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
      '-nodes', '-keyout', 'tls_key.pem', '-out', 'tls_cert.pem', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '2'], { stdio: 'ignore' });
  return { key: fs.readFileSync('tls_key.pem'), cert: fs.readFileSync('tls_cert.pem') };
}

// node's message for an OpenSSL error is ERR_print_errors()'s line, with a
// thread id in front and a source file and line inside; cnet keeps the stable
// rest (docs/tls.md, Errors): compare that.
function tlsMsg(e) {
  return esc(String(e.message).replace(/^[0-9A-F]+:error:/, 'error:')
    .replace(/:[^:]*\.c:\d+:/, ':').replace(/:?\n$/, ''));
}

// A TLS socket's events: 'secureConnect' with authorized, authorizationError
// ('-' when none), the protocol and the ALPN protocol ('false' when none).
function traceTls(c, side, opts = {}) {
  if (opts.connect !== false) c.on('connect', () => log(side, 'connect'));
  c.on('secureConnect', () => log(side, 'secureConnect', c.authorized,
    c.authorizationError || '-', c.getProtocol(), c.alpnProtocol));
  c.on('secure', () => log(side, 'secure'));
  c.on('session', () => log(side, 'session', c.isSessionReused()));
  c.on('data', (d) => log(side, 'data', esc(d)));
  c.on('end', () => log(side, 'end'));
  c.on('error', (e) => log(side, 'error', e.code, tlsMsg(e)));
  c.on('close', (h) => log(side, 'close', h));
  return c;
}

module.exports = { tlsFiles, traceTls, tlsMsg };
