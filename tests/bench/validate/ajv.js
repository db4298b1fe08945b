// usage: NODE_PATH=DIR/node_modules node ajv.js SCHEMA < records.ndjson > valid.ndjson
//
// The peer of mig-validate in tests/bench/validate: ajv (draft 2020-12, with
// ajv-formats) compiles SCHEMA once, then every NDJSON line of stdin is
// parsed with JSON.parse and validated; valid lines go to stdout unchanged,
// the counts to stderr.  Lines are split from large chunks (not readline),
// so that the reader is not what is measured.
'use strict';
const fs = require('fs');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');

// multipleOfPrecision: ajv divides in binary floating point, so without it
// 65655.50 is no multiple of 0.01; mig-validate compares decimals exactly.
const ajv = new Ajv2020({ strict: false, multipleOfPrecision: 9 });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(fs.readFileSync(process.argv[2], 'utf8')));

let valid = 0, invalid = 0, rest = '';
const out = [];
let outLen = 0;
function flush() {
	if (out.length) {
		fs.writeSync(1, out.join(''));
		out.length = 0;
		outLen = 0;
	}
}
function line(s) {
	if (!s.length)
		return;
	let v;
	try {
		v = JSON.parse(s);
	} catch (e) {
		invalid++;
		return;
	}
	if (validate(v)) {
		valid++;
		out.push(s, '\n');
		outLen += s.length + 1;
		if (outLen > 1 << 18)
			flush();
	} else {
		invalid++;
	}
}
const buf = Buffer.alloc(1 << 20);
for (;;) {
	let n;
	try {
		n = fs.readSync(0, buf, 0, buf.length, null);
	} catch (e) {
		if (e.code === 'EAGAIN')
			continue;
		if (e.code === 'EOF')
			break;
		throw e;
	}
	if (n === 0)
		break;
	const chunk = rest + buf.toString('utf8', 0, n);
	const lines = chunk.split('\n');
	rest = lines.pop();
	for (const s of lines)
		line(s);
}
line(rest);
flush();
process.stderr.write(`ajv: ${valid + invalid} read, ${valid} valid, ${invalid} invalid\n`);
