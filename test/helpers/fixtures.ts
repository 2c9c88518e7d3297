import { Readable, Writable } from 'node:stream';
import { parseModelCard, type ModelCard } from '../../src/model/card.js';
import type { Predictor } from '../../src/stages/predict.js';

export const FEATURES = [
  'credit_limit',
  'age',
  'pay_delay_sep',
  'pay_delay_aug',
  'bill_amt_sep',
  'bill_amt_aug',
  'pay_amt_sep',
  'pay_amt_aug',
] as const;
export const ALIASES = ['LIMIT_BAL', 'AGE', 'PAY_0', 'PAY_2', 'BILL_AMT1', 'BILL_AMT2', 'PAY_AMT1', 'PAY_AMT2'] as const;

/** A card shaped like the bundled model's, for tests that bring their own predictor. */
export function testCard(overrides: Record<string, unknown> = {}): ModelCard {
  return parseModelCard({
    name: 'test-model',
    version: 't1',
    input_name: 'input',
    features: FEATURES.map((name, i) => ({
      name,
      aliases: [ALIASES[i]],
      ...(name === 'age' ? { min: 18, max: 120, type: 'integer' } : {}),
      ...(name === 'credit_limit' ? { min: 0 } : {}),
    })),
    target: { name: 'target', aliases: ['default.payment.next.month'] },
    output: { name: 'probabilities', index: 1 },
    ...overrides,
  });
}

/** A deterministic stand-in model: P = sigmoid of a fixed linear score, computed in float32. */
export function fakeProbability(row: ArrayLike<number>, offset = 0): number {
  const z = (row[offset + 1]! - 40) / 10 + row[offset + 2]! * 0.5 - row[offset]! / 500_000;
  return Math.fround(1 / (1 + Math.exp(-z)));
}

export function fakePredictor(opts: { delayMs?: number } = {}): Predictor & { calls: number; rows: number } {
  const p = {
    calls: 0,
    rows: 0,
    async predict(features: Float32Array, rows: number) {
      p.calls++;
      p.rows += rows;
      if (opts.delayMs !== undefined) await new Promise((r) => setTimeout(r, opts.delayMs));
      const out = new Float32Array(rows);
      for (let r = 0; r < rows; r++) out[r] = fakeProbability(features, r * FEATURES.length);
      return { probabilities: out, queueMs: 0, computeMs: 0 };
    },
  };
  return p;
}

/** A source that emits `buf` in pieces cut at the given offsets. */
export function chunked(buf: Buffer, cuts: number[]): Readable {
  const sorted = [...new Set(cuts.filter((c) => c > 0 && c < buf.length))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let at = 0;
  for (const c of [...sorted, buf.length]) {
    parts.push(buf.subarray(at, c));
    at = c;
  }
  return Readable.from(parts, { objectMode: false });
}

/** Collects everything written into a string. */
export function collector(): Writable & { text: () => string } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      cb();
    },
  }) as Writable & { text: () => string };
  w.text = () => Buffer.concat(chunks).toString('utf8');
  return w;
}

/** A small CSV in the original service's format, with a deterministic spread of values. */
export function sampleCsv(rows: number, opts: { extra?: boolean; seed?: number } = {}): string {
  let s = opts.seed ?? 7;
  const rnd = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const head = [...FEATURES, ...(opts.extra === true ? ['ID', 'note'] : [])].join(',');
  const lines = [head];
  for (let i = 0; i < rows; i++) {
    const v = [
      Math.round(rnd() * 50) * 10000 + 10000,
      21 + Math.floor(rnd() * 50),
      Math.floor(rnd() * 5) - 2,
      Math.floor(rnd() * 5) - 2,
      Math.round(rnd() * 200000),
      Math.round(rnd() * 200000),
      Math.round(rnd() * 10000),
      Math.round(rnd() * 10000),
    ];
    if (opts.extra === true) v.push(i + 1, `"note ${i}, with comma"` as unknown as number);
    lines.push(v.join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** A seeded generator (mulberry32): consecutive draws are independent enough to pair a score with its label. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Rows far from the reference: ages shifted by 30 years, limits tripled. */
export function driftedCsv(n: number): string {
  const lines = ['credit_limit,age,pay_delay_sep,pay_delay_aug,bill_amt_sep,bill_amt_aug,pay_amt_sep,pay_amt_aug'];
  for (let i = 0; i < n; i++)
    lines.push(
      `${(5 + (i % 40)) * 30000},${60 + (i % 30)},${(i % 5) - 1},${(i % 4) - 1},${(i * 7919) % 300000},${(i * 104729) % 300000},${(i * 31) % 20000},${(i * 17) % 20000}`,
    );
  return `${lines.join('\n')}\n`;
}
