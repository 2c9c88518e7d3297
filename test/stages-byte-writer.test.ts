// The formatter writes numbers as digits into bytes instead of asking JS for their strings; the
// bytes must be exactly the strings the service wrote before (and that clients parse), for every
// float32 a model can return, and any string must come out as its UTF-8.
import t from 'tap';
import fc from 'fast-check';
import { ByteWriter } from '../src/stages/byte-writer.js';
import { float32String, writeFloat32, writeRound4 } from '../src/stages/format.js';
import { plainInteger } from '../src/stages/validate.js';

const written = (fn: (w: ByteWriter) => void, capacity?: number): string => {
  const w = new ByteWriter(capacity);
  fn(w);
  return w.take().toString('utf8');
};

const float32 = fc.float({ noDefaultInfinity: false });
const probability = fc.oneof(
  fc.float({ min: 0, max: 1, noNaN: true }),
  fc.constantFrom(0, 1, 1e-6, Math.fround(1e-6), 1e-7, 5e-5, 0.5, 0.99999994, Math.fround(0.1)),
);

t.test('writeFloat32 writes float32String(p), byte for byte', async (t) => {
  fc.assert(
    fc.property(fc.oneof(probability, float32), (p) => written((w) => writeFloat32(w, Math.fround(p))) === float32String(Math.fround(p))),
    { numRuns: 20_000 },
  );
  // Just below 1e-6 String() switches to exponents: those keep the string path.
  for (const p of [Math.fround(9.9e-7), Math.fround(1e-9), -0, Number.NaN])
    t.equal(
      written((w) => writeFloat32(w, p)),
      float32String(p),
      String(p),
    );
});

t.test('writeRound4 writes String(round to 4 decimals), byte for byte', async (t) => {
  const round4 = (p: number): number => Math.round(p * 1e4) / 1e4;
  fc.assert(
    fc.property(fc.oneof(probability, float32), (p) => written((w) => writeRound4(w, Math.fround(p))) === String(round4(Math.fround(p)))),
    { numRuns: 20_000 },
  );
  t.equal(
    written((w) => writeRound4(w, 0.00004)),
    '0',
  );
  t.equal(
    written((w) => writeRound4(w, 0.99996)),
    '1',
  );
});

t.test('int and string; the buffer grows as needed and take() starts afresh', async (t) => {
  fc.assert(fc.property(fc.maxSafeNat(), (n) => written((w) => w.int(n), 1) === String(n)));
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => written((w) => w.string(s), 1) === Buffer.from(s, 'utf8').toString('utf8')));
  const w = new ByteWriter(4);
  w.string('a,');
  w.string('naïve ✓ ');
  w.int(1234567);
  w.byte(10);
  t.equal(w.take().toString('utf8'), 'a,naïve ✓ 1234567\n');
  t.equal(w.length, 0);
  w.string('next');
  t.equal(w.take().toString('utf8'), 'next');
});

t.test('plainInteger agrees with Number() on every integer it takes, and takes the plain ones', async (t) => {
  const intString = fc.oneof(
    fc.integer().map(String),
    fc.maxSafeInteger().map(String),
    fc.stringMatching(/^[+-]?[0-9]{0,17}$/),
    fc.string({ unit: fc.constantFrom('0', '1', '9', '-', '+', '.', 'e', ' ', 'x', '\u00a0') }),
  );
  fc.assert(
    fc.property(intString, (s) => {
      const v = plainInteger(s);
      return Number.isNaN(v) || Object.is(v, Number(s));
    }),
    { numRuns: 20_000 },
  );
  for (const s of ['0', '-0', '7', '-20', '150000', '999999999999999']) t.ok(Object.is(plainInteger(s), Number(s)), s);
  // Left to Number() and the strict check: signs, leading zeros, decimals, blanks, hex, long.
  for (const s of ['', '-', '+5', '007', '-01', '1.5', ' 1', '1 ', '0x1f', '1e3', '1000000000000000'])
    t.ok(Number.isNaN(plainInteger(s)), JSON.stringify(s));
});
