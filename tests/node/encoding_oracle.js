'use strict';
// Oracle for tests/test_encoding_differential.c: answers a batch of encoding
// cases with what Node itself does, so cnet's encoding layer can be compared
// byte for byte. Usage: node encoding_oracle.js <cases-file> <answers-file>
//
// One case per line, all byte strings in hex (binary-safe), one answer line
// per case, in order:
//   P <name>               -> canonical name if Buffer.isEncoding(name), else "-"
//   E <enc> <str>          -> Buffer.from(Buffer.from(str).toString('utf8'), enc)
//   D <enc> <c1>,<c2>,...  -> a StringDecoder(enc) fed each chunk with write(),
//                             then end(); answer "<w1>,<w2>,...,<end>", each the
//                             UTF-8 bytes of the returned JS string
//                             (Buffer.from(s, 'utf8'): lone surrogates -> EF BF BD).
const fs = require('fs');
const { StringDecoder } = require('string_decoder');

const [inPath, outPath] = process.argv.slice(2);
if (!inPath || !outPath) {
  process.stderr.write('usage: node encoding_oracle.js <cases> <answers>\n');
  process.exit(2);
}

const fromHex = (h) => Buffer.from(h, 'hex');
const utf8Hex = (s) => Buffer.from(s, 'utf8').toString('hex');

const lines = fs.readFileSync(inPath, 'latin1').split('\n');
if (lines[lines.length - 1] === '') lines.pop();

const out = [];
for (const line of lines) {
  const f = line.split(' ');
  switch (f[0]) {
    case 'P': {
      const name = fromHex(f[1] || '').toString('utf8');
      out.push(Buffer.isEncoding(name) ? new StringDecoder(name).encoding : '-');
      break;
    }
    case 'E': {
      const str = fromHex(f[2] || '').toString('utf8');
      out.push(Buffer.from(str, f[1]).toString('hex'));
      break;
    }
    case 'D': {
      const dec = new StringDecoder(f[1]);
      const res = (f[2] || '').split(',').map((c) => utf8Hex(dec.write(fromHex(c))));
      res.push(utf8Hex(dec.end()));
      out.push(res.join(','));
      break;
    }
    default:
      process.stderr.write(`encoding_oracle: bad case line: ${line.slice(0, 80)}\n`);
      process.exit(2);
  }
}
fs.writeFileSync(outPath, out.join('\n') + '\n');
