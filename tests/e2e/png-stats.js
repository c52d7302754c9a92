// node png-stats.js FILE.png: prints "WIDTH HEIGHT COLOURS INKED" for an
// 8-bit RGB or RGBA PNG (what Chromium's screenshots are): the distinct
// colours and how many pixels are not white, so tests/e2e/report.sh can
// tell a rendered page from a blank one. Node's own zlib; no npm package.
'use strict';
const fs = require('fs');
const zlib = require('zlib');

function fail(msg) {
	process.stderr.write(`png-stats: ${msg}\n`);
	process.exit(1);
}

const buf = fs.readFileSync(process.argv[2]);
if (buf.length < 8 || buf.readUInt32BE(0) !== 0x89504e47)
	fail('not a PNG');
let off = 8, width = 0, height = 0, depth = 0, type = 0;
const idat = [];
while (off + 8 <= buf.length) {
	const len = buf.readUInt32BE(off);
	const name = buf.toString('latin1', off + 4, off + 8);
	const data = buf.subarray(off + 8, off + 8 + len);
	if (name === 'IHDR') {
		width = data.readUInt32BE(0);
		height = data.readUInt32BE(4);
		depth = data[8];
		type = data[9];
		if (data[12] !== 0)
			fail('interlaced PNG');
	} else if (name === 'IDAT') {
		idat.push(data);
	} else if (name === 'IEND') {
		break;
	}
	off += 12 + len;
}
if (depth !== 8 || (type !== 2 && type !== 6))
	fail(`colour type ${type}, depth ${depth}: want 8-bit RGB or RGBA`);
const bpp = type === 6 ? 4 : 3;
const raw = zlib.inflateSync(Buffer.concat(idat));
const stride = width * bpp;
let prev = Buffer.alloc(stride);
const colours = new Set();
let inked = 0;
for (let y = 0; y < height; y++) {
	const filter = raw[y * (stride + 1)];
	const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
	for (let i = 0; i < stride; i++) {
		const a = i >= bpp ? line[i - bpp] : 0;
		const b = prev[i];
		const c = i >= bpp ? prev[i - bpp] : 0;
		let add = 0;
		if (filter === 1) add = a;
		else if (filter === 2) add = b;
		else if (filter === 3) add = (a + b) >> 1;
		else if (filter === 4) {
			const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
			add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
		} else if (filter !== 0) fail(`bad filter ${filter}`);
		line[i] = (line[i] + add) & 0xff;
	}
	for (let x = 0; x < stride; x += bpp) {
		const rgb = (line[x] << 16) | (line[x + 1] << 8) | line[x + 2];
		colours.add(rgb);
		if (rgb !== 0xffffff)
			inked++;
	}
	prev = line;
}
process.stdout.write(`${width} ${height} ${colours.size} ${inked}\n`);
