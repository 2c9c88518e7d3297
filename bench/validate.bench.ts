// The per-row check: the compiled validator against a zod object parse of the same rows, in
// one process. Why src/stages/validate.ts does not run zod per row.
//
//   node --import=tsx bench/validate.bench.ts [--rows 200000]
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PACKAGE_ROOT } from '../src/config.js';
import { readModelCard } from '../src/model/card.js';
import { BlockBuilder } from '../src/stages/block.js';
import { RowValidator, rowSchema } from '../src/stages/validate.js';
import { arg } from './util.js';

const card = readModelCard(path.join(PACKAGE_ROOT, 'models/credit-default/v1/card.json'));
const n = Number(arg('rows') ?? 200_000);
const columns = card.features.map((f) => f.name);
let s = 7;
const r = (): number => ((s = (s * 1103515245 + 12345) % 2147483648), s / 2147483648);
// Rows as csv-parser hands them over: string cells keyed by column position.
const rows: Record<number, string>[] = Array.from({ length: n }, () => {
  const o: Record<number, string> = {};
  const v = [
    (1 + Math.floor(r() * 50)) * 10000,
    21 + Math.floor(r() * 50),
    Math.floor(r() * 5) - 2,
    Math.floor(r() * 5) - 2,
    Math.round(r() * 200000),
    Math.round(r() * 200000),
    Math.round(r() * 20000),
    Math.round(r() * 20000),
  ];
  v.forEach((x, i) => (o[i] = String(x)));
  return o;
});

function compiled(): number {
  const v = new RowValidator(card);
  const plan = v.plan(columns);
  let ok = 0;
  for (let start = 0; start < n; start += 2048) {
    const b = new BlockBuilder(columns.length, 2048, { cells: false, ids: false });
    for (let i = start; i < Math.min(n, start + 2048); i++) v.rowInto(b, plan, columns, i, rows[i]!, false);
    ok += b.rows;
  }
  return ok;
}

function zod(): number {
  const schema = rowSchema(card);
  let ok = 0;
  for (const row of rows) {
    const obj: Record<string, unknown> = {};
    columns.forEach((c, i) => (obj[c] = row[i]));
    if (schema.safeParse(obj).success) ok++;
  }
  return ok;
}

const time = (f: () => number): { ns: number; ok: number } => {
  f(); // warm up
  const t0 = performance.now();
  const ok = f();
  return { ns: ((performance.now() - t0) * 1e6) / n, ok };
};

const c = time(compiled);
const z = time(zod);
console.table({
  'compiled validator': { 'ns/row': Math.round(c.ns), valid: c.ok },
  'zod safeParse': { 'ns/row': Math.round(z.ns), valid: z.ok },
});
console.log(`zod costs ${(z.ns / c.ns).toFixed(1)}× the compiled check (${n} rows, ${columns.length} features)`);
