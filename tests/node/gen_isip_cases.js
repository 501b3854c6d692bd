#!/usr/bin/env node
/*
 * Writes tests/data/isip_cases.txt, the reference answers for cnet_is_ip().
 *
 *     node tests/node/gen_isip_cases.js [output]    (default: ../data/isip_cases.txt)
 *
 * Every answer comes from this node's own net.isIP(), so rerunning the script
 * with a newer Node shows in `git diff` whether Node changed its mind.
 * The inputs are hand-picked edge cases for each rule of Node's regexes, then
 * systematic sweeps ("::" in every position, every octet edge in every
 * position), then mutations of valid addresses drawn from a fixed-seed PRNG,
 * so the output is the same on every run.
 *
 * Line format: "<0|4|6>\t<input>". The input is escaped byte-wise on its
 * UTF-8 form: "\\" for a backslash, "\t" "\n" "\r", and "\xHH" for any other
 * byte below 0x20 or from 0x7f up; everything else is literal. Lines starting
 * with '#' are comments. NUL never appears: a C string cannot hold it.
 */
'use strict';

const fs = require('fs');
const net = require('net');
const path = require('path');

const TARGET_LINES = 2000;
const SEED = 0x15c0ffee;

const cases = [];
const seen = new Set();

function add(s) {
    // A lone surrogate has no UTF-8 form, so the file could not carry it.
    if (s.includes('\0') || !s.isWellFormed() || seen.has(s))
        return;
    seen.add(s);
    cases.push(s);
}

function addAll(list) {
    for (const s of list)
        add(s);
}

/* ---- hand-picked: IPv4 ---------------------------------------------------- */

addAll([
    '0.0.0.0', '255.255.255.255', '127.0.0.1', '1.2.3.4', '10.0.0.1', '192.168.1.1',
    '8.8.8.8', '100.200.249.250', '199.99.9.0', '172.16.254.1', '224.0.0.251', '9.99.199.249',
    // Leading zeros, which inet_aton() and some inet_pton()s accept and Node does not.
    '01.2.3.4', '1.02.3.4', '1.2.003.4', '1.2.3.04', '00.0.0.0', '0.0.0.00', '000.0.0.0',
    '010.010.010.010', '0127.0.0.1', '0000000001.1.1.1', '1.1.1.0000000001',
    // Out of range.
    '256.0.0.0', '0.256.0.0', '0.0.256.0', '0.0.0.256', '260.1.1.1', '300.1.1.1', '999.1.1.1',
    '1000.1.1.1', '1.1.1.2555', '25.5.5.5', '255.255.255.2550', '4294967295', '4294967296',
    // Shorthand forms inet_aton() knows.
    '127.1', '127.0.1', '1', '0', '0x7f.0.0.1', '0x7f000001', '017700000001', '1.2.3.0x4',
    '1e1.1.1.1', '+1.1.1.1', '-1.1.1.1', '1.-1.1.1', '1.1.1.+1', '1,2,3,4', '1.2.3',
    '1.2.3.4.5', '1.2.3.4.', '.1.2.3.4', '1..2.3', '1.2..3.4', '...', '....', '.', '1.',
    '1.2.3.', '1.2.3.4..', 'a.b.c.d', '1.2.3.a', '1.2.3.4a', 'a1.2.3.4', '1.2.3.4/24',
    '1.2.3.4:80', '1.2.3.4%eth0', '1.2.3.4%', '1.2.3.4::', '::1.2.3.4', '[1.2.3.4]',
    '1.2.3.4 ', ' 1.2.3.4', '1.2.3.4\n', '1.2.3.4\r\n', '1.2.3.4\t', '\t1.2.3.4', '1. 2.3.4',
    '1.2.3.4\x0b', '1.2.3.4\x0c', '1.2.3.4\x7f', '1.2.3.4\x1b', '\x01.2.3.4',
    '\uff11.2.3.4', '\uff11\uff12\uff17.0.0.1', '1\u30022\u30023\u30024', '1\uff0e2\uff0e3\uff0e4',
    '\u0661.2.3.4', '\u0967.2.3.4', '1.2.3.4\u00a0', '\u00a01.2.3.4', '1.2.3.4\u200b',
    '\ufeff1.2.3.4', '1.2.3.4\u2028', '1.2.3.\u00b9', 'localhost', 'example.com',
    '4.3.2.1.in-addr.arpa', '1.2.3.4.example.com',
]);

/* ---- hand-picked: IPv6 ---------------------------------------------------- */

addAll([
    '::', '::1', '1::', '1::1', '::0', '0::', '0::0', 'fe80::', 'ff02::1', '2001:db8::',
    '2001:db8::1', '2001:0db8:85a3:0000:0000:8a2e:0370:7334', '2001:db8:85a3::8a2e:370:7334',
    '1:2:3:4:5:6:7:8', '0:0:0:0:0:0:0:0', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    'FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF', 'fFfF::AbCd', 'ABCD:EF01::', '0000::0000',
    '00000::', '::00000', '12345::', '::12345', '1:2:3:4:5:6:7:12345', 'g::', '::g', 'G::1',
    '::fffg', '::-1', '::+1', '::0x1', 'x::',
    // "::" misuse and colon counts.
    ':::', '::::', '1:::2', ':::1', '1:::', '::1::', '1::2::3', '::1:2::', ':1', '1:', ':',
    ':1::', '::1:', '1::2:', ':1::2', ':1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:',
    '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8',
    '1:2:3:4::5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3::5:6:7:8',
    '1:2:3:4:5:6::8', '1::3:4:5:6:7:8', '1:2:3:4:5:6:7::8', '1::2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:9:10:11:12', ':::::::', '::::::::', '1:1:1:1:1:1:1', '1:1:1:1:1:1:1:1:',
    // Embedded IPv4.
    '::ffff:1.2.3.4', '::FFFF:127.0.0.1', '::ffff:192.0.2.128', '::192.0.2.128',
    '64:ff9b::1.2.3.4', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '1:2:3:4:5:1.2.3.4',
    '1:2:3:4:5::1.2.3.4', '1:2:3:4:5:6::1.2.3.4', '::1:2:3:4:5:1.2.3.4',
    '::1:2:3:4:5:6:1.2.3.4', '1::2:3:4:5:1.2.3.4', '1::2:3:4:5:6:1.2.3.4', '1.2.3.4::',
    '::1.2.3.4:1', '::1.2.3.4::', '1:1.2.3.4:2::', '::1.2.3', '::1.2.3.4.5', '::1.2.3.256',
    '::01.2.3.4', '::1.2.3.04', '::ffff:1.2.3.4.', '::ffff:.1.2.3.4', '::ffff:1..2.3.4',
    '::ffff:1.2.3.4/96', '::1.2.3.4%eth0', '::ffff:1.2.3.4%1', '::ffff:1.2.3.4%',
    '::a.2.3.4', '::1.2.3.a', '::ffff1.2.3.4', '::ffff:f1.2.3.4', ':1.2.3.4', '1.2.3.4:',
    ':::1.2.3.4', '::0.0.0.0', '::255.255.255.255', '0:0:0:0:0:0:0.0.0.0',
    '0:0:0:0:0:0:0:0.0.0.0', '0:0:0:0:0:0.0.0.0',
    // Zone ids: Node allows [0-9A-Za-z.:-]+ after '%'.
    'fe80::1%eth0', 'fe80::1%1', 'fe80::1%lo', 'fe80::1%en0', 'fe80::1%eth0.100', '::%a-b',
    '::%-', '::%.', '::%:', '::%:::', '::%a:b.c-d', '::%Z', '::%z9', '::%25eth0', '::1%%',
    '::1%', '%eth0', '%', '%1', '::1%eth0%1', '::1%eth_0', '::1%eth 0', '::1%eth0\n',
    '::1%eth0 ', '::1% eth0', '::1%\t', '::1%\u00e9', '::1%\u{1f600}', '::1%/', '::1%[',
    '::1%,', '::1%@', '::1%~', '::1%+', '::1%=', '::1%_', '::1%\\', '[fe80::1%eth0]',
    'fe80::1%eth0]', '1::2::3%eth0', '1:2:3:4:5:6:7:8%eth0', '1:2:3:4:5:6:7:8:%eth0',
    '::ffff:1.2.3.4%eth0.1', 'fe80::1%%eth0', 'fe80::1%eth0%', 'fe80::%', 'fe80%eth0',
    '1.2.3.4%1',
    // Brackets, prefixes, ports, whitespace and lookalikes.
    '[::1]', '[::1]:80', '::1/128', '::1 ', ' ::1', '::1\n', '\n::1', '::1\r', '::1\t',
    ':: 1', ': :', '::\u00a0', '\u00a0::', '::1\u200b', '\ufeff::1', '::\u2028',
    '::\uff11', '\uff1a\uff1a', '::\uff46', '\uff41::', '::\u0661', '\u00e9::',
    '\u{1f600}', '::\u{1f600}', '::1\x7f', '::1\x01', '\x1f::',
]);

/* ---- hand-picked: everything else ----------------------------------------- */

add('');
for (let c = 1; c < 128; c++)
    add(String.fromCharCode(c));
addAll([
    ' ', '  ', '\t', '\n', '\r\n', 'null', 'undefined', 'NaN', 'true', '0x0', '-0',
    '\u00e9', '\u00ff', '\u0100', '\u4e2d\u6587', '\u{10ffff}',
]);

/* ---- very long inputs: Node's regexes must stay linear, and so must we ---- */

addAll([
    '1:'.repeat(4000) + '1', '::' + '1:'.repeat(3000) + '1', '1.'.repeat(3000) + '1',
    '0'.repeat(5000), '0'.repeat(4096) + '.1.1.1', '::' + '0'.repeat(4096),
    '0'.repeat(4096) + '::', ':'.repeat(5000), '.'.repeat(5000), 'f'.repeat(5000),
    '::1%' + 'a'.repeat(5000), '::1%' + 'a'.repeat(5000) + '_', 'fe80::1%' + '-.:'.repeat(1500),
    '1.1.1.1' + ' '.repeat(3000), ' '.repeat(3000) + '::1',
    '::ffff:' + '1.'.repeat(2000) + '1', '1:2:3:4:5:6:7:8' + ':1'.repeat(2000),
]);

/* ---- sweeps ---------------------------------------------------------------- */

/* Every way of writing eight groups with "::" standing for groups i..j-1. */
function compressions(groups, tail) {
    const out = [];
    const n = groups.length;
    for (let i = 0; i <= n; i++) {
        for (let j = i; j <= n; j++) {
            const left = groups.slice(0, i).join(':');
            const right = groups.slice(j).concat(tail ? [tail] : []).join(':');
            out.push(left + '::' + right);
        }
    }
    out.push(groups.concat(tail ? [tail] : []).join(':'));
    return out;
}

addAll(compressions(['1', '2', '3', '4', '5', '6', '7', '8']));
addAll(compressions(['0', 'ab', 'CDE', 'f00d', '0', '0', 'Ff', '9']));
addAll(compressions(['1', '2', '3', '4', '5', '6'], '9.8.7.6'));
addAll(compressions(['1', '2', '3', '4', '5', '6', '7'], '9.8.7.6'));
addAll(compressions(['1', '2', '3', '4', '5'], '9.8.7.6'));
addAll(compressions(['1', '2', '3', '4', '5', '6', '7', '8', '9']));

/* Each octet spelling in each of the four positions, alone and as an IPv6 tail. */
const octets = [
    '0', '1', '9', '10', '19', '99', '100', '109', '199', '200', '209', '249', '250', '255',
    '256', '259', '260', '299', '300', '999', '00', '01', '09', '001', '010', '099', '0255',
    '1000', '2550', '', ' 1', '1 ', 'a', 'ff', '-0', '+0', '\u0661',
];
for (const o of octets) {
    for (let pos = 0; pos < 4; pos++) {
        const parts = ['7', '7', '7', '7'];
        parts[pos] = o;
        add(parts.join('.'));
        add('::ffff:' + parts.join('.'));
    }
}

/* Hex group lengths 0..6 in first, middle and last position, both cases. */
for (const g of ['', '0', 'a', 'Bc', 'dEf', 'ABCD', '0000', 'abcde', '00000', 'fffff0']) {
    add(g + ':1:2:3:4:5:6:7');
    add('1:2:3:' + g + ':5:6:7:8');
    add('1:2:3:4:5:6:7:' + g);
    add(g + '::');
    add('::' + g);
    add('1::' + g + ':1.2.3.4');
}

/* Each printable ASCII and some other characters as a zone id, and in an address. */
for (let c = 32; c < 127; c++) {
    const ch = String.fromCharCode(c);
    add('fe80::1%' + ch);
    add('fe80::1%x' + ch + 'y');
    add('1:2' + ch + ':3::');
}
for (const ch of ['\t', '\n', '\x7f', '\u00e9', '\u{1f600}', '\uff10'])
    add('fe80::1%x' + ch);

/* ---- pseudo-random mutations of valid addresses --------------------------- */

/* mulberry32: tiny, good enough, and the same everywhere for a given seed. */
function mulberry32(a) {
    return function() {
        a = (a + 0x6d2b79f5) | 0;
        let t = Math.imul(a ^ (a >>> 15), 1 | a);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}
const rnd = mulberry32(SEED);
const randInt = (n) => Math.floor(rnd() * n);
const pick = (arr) => arr[randInt(arr.length)];

const HEX = '0123456789abcdefABCDEF';
const NOISE = [
    ':', ':', ':', '.', '.', '%', '0', '1', '2', '5', '9', 'a', 'f', 'F', 'g', 'G', 'z', ' ', '\t',
    '\n', '-', '_', '/', '[', ']', '\u00e9', '\u00a0', '\uff11', '\u{1f600}', '\x01', '\x7f', '\\',
];
const ZONES = [
    'eth0', '1', 'lo', 'en0.1', 'a-b', ':', '.', '-', 'x:y.z', 'eth_0', '', 'e%0', 'e 0',
];

function randGroup() {
    let s = '';
    for (let n = 1 + randInt(4); n > 0; n--)
        s += pick(HEX);
    return s;
}

function randOctet() {
    return String(randInt(10) < 7 ? randInt(256) : randInt(1000));
}

function randV4() {
    return [randOctet(), randOctet(), randOctet(), randOctet()].join('.');
}

/* A valid address most of the time: random groups, maybe a v4 tail, maybe "::". */
function randAddress() {
    if (randInt(3) === 0)
        return randV4();
    const tail = randInt(4) === 0 ? randV4() : null;
    const n = tail ? 6 : 8;
    const groups = [];
    for (let i = 0; i < n; i++)
        groups.push(randGroup());
    let s;
    if (randInt(4) === 0) {
        s = groups.concat(tail ? [tail] : []).join(':');
    } else {
        const i = randInt(n + 1);
        const j = Math.min(n, i + 1 + randInt(n));
        s = groups.slice(0, i).join(':') + '::' +
            groups.slice(j).concat(tail ? [tail] : []).join(':');
    }
    if (randInt(5) === 0)
        s += '%' + pick(ZONES);
    return s;
}

function mutate(s) {
    const at = randInt(s.length + 1);
    switch (randInt(11)) {
    case 0: return s.slice(0, at) + pick(NOISE) + s.slice(at);
    case 1: return s.slice(0, at) + s.slice(at + 1);
    case 2: return s.slice(0, at) + pick(NOISE) + s.slice(at + 1);
    case 3: { /* duplicate a slice */
        const len = 1 + randInt(6);
        return s.slice(0, at + len) + s.slice(at, at + len) + s.slice(at + len);
    }
    case 4: { /* flip the case of one char */
        const c = s.charAt(at);
        const f = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
        return s.slice(0, at) + f + s.slice(at + 1);
    }
    case 5: return s + '%' + pick(ZONES);
    case 6: return s.slice(0, at) + pick(['::', ':', '.', ':0:', '1.2.3.4']) + s.slice(at);
    case 7: return s.slice(0, at);
    case 8: return s.slice(at);
    case 9: return s.replace(/[0-9a-fA-F]+/, () => (randInt(2) ? randGroup() : randOctet()));
    default: return s.replace('::', pick([':', ':::', '::0::', ':0:']));
    }
}

/* A string of grammar tokens: hits odd combinations that mutations rarely reach. */
const TOKENS = ['1', '0', 'ff', 'FFFF', '12345', ':', '::', '.', '255', '256', '01', '%', 'eth0'];
function tokenSoup() {
    let s = '';
    for (let n = 1 + randInt(12); n > 0; n--)
        s += pick(TOKENS);
    return s;
}

const handPicked = cases.length;
while (cases.length < TARGET_LINES) {
    const kind = randInt(10);
    if (kind < 2) {
        add(randAddress());
    } else if (kind < 3) {
        add(tokenSoup());
    } else {
        let s = randAddress();
        for (let n = 1 + randInt(3); n > 0; n--)
            s = mutate(s);
        add(s);
    }
}

/* ---- output ------------------------------------------------------------------ */

function escape(s) {
    let out = '';
    for (const b of Buffer.from(s, 'utf8')) {
        if (b === 0x5c)
            out += '\\\\';
        else if (b === 0x09)
            out += '\\t';
        else if (b === 0x0a)
            out += '\\n';
        else if (b === 0x0d)
            out += '\\r';
        else if (b < 0x20 || b >= 0x7f)
            out += '\\x' + b.toString(16).padStart(2, '0');
        else
            out += String.fromCharCode(b);
    }
    return out;
}

const outPath = process.argv[2] || path.join(__dirname, '..', 'data', 'isip_cases.txt');
const lines = [
    '# net.isIP() answers from Node ' + process.version + '.',
    '# Written by tests/node/gen_isip_cases.js: do not edit, rerun the script.',
    '# Format: <0|4|6> TAB <input, escaped: \\\\ \\t \\n \\r \\xHH>',
];
for (const s of cases)
    lines.push(net.isIP(s) + '\t' + escape(s));
fs.mkdirSync(path.dirname(outPath), { recursive: true });
fs.writeFileSync(outPath, lines.join('\n') + '\n');
process.stderr.write(`wrote ${cases.length} cases (${handPicked} hand-picked and swept, ` +
    `${cases.length - handPicked} random) to ${outPath}\n`);
