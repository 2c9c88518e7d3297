import { writeFileSync } from 'node:fs';
import { createRng } from '../../src/train/prng.js';

// A small credit-like data set for trainer tests, generated rather than copied, so no row of
// the UCI file ever lands in the repository. Columns and value ranges mimic the UCI file
// (plus one column the model ignores), and the label depends non-linearly on several features
// so that trees have something to find.

export const UCI_COLUMNS = [
  'ID',
  'LIMIT_BAL',
  'SEX',
  'AGE',
  'PAY_0',
  'PAY_2',
  'BILL_AMT1',
  'BILL_AMT2',
  'PAY_AMT1',
  'PAY_AMT2',
  'default.payment.next.month',
] as const;
export const SERVICE_COLUMNS = [
  'credit_limit',
  'age',
  'pay_delay_sep',
  'pay_delay_aug',
  'bill_amt_sep',
  'bill_amt_aug',
  'pay_amt_sep',
  'pay_amt_aug',
  'target',
] as const;

/** Rows in UCI_COLUMNS order; IDs are 1…n. */
export function syntheticRows(n: number, seed: number): number[][] {
  const rng = createRng(seed);
  const u = (): number => rng.nextUint32() / 2 ** 32;
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const limit = 10_000 * (1 + rng.nextInt(60));
    const age = 21 + rng.nextInt(55);
    const late = u() < 0.25;
    const delay0 = late ? 1 + rng.nextInt(4) : -2 + rng.nextInt(3);
    const delay2 = u() < 0.6 ? delay0 : -2 + rng.nextInt(6);
    const bill1 = Math.round(u() * limit * 1.1) - rng.nextInt(2_000);
    const bill2 = Math.round(bill1 * (0.7 + 0.5 * u()));
    const amt1 = u() < 0.2 ? 0 : rng.nextInt(Math.max(1, Math.round(bill1 * 0.3)) + 1);
    const amt2 = u() < 0.2 ? 0 : rng.nextInt(20_000);
    const z =
      -1.6 +
      (delay0 >= 1 ? 1.4 : 0) +
      (delay2 >= 2 ? 0.6 : 0) -
      limit / 300_000 +
      (amt1 === 0 && bill1 > 1000 ? 0.5 : 0) +
      (age < 25 ? 0.3 : 0);
    const y = u() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    rows.push([i + 1, limit, 1 + rng.nextInt(2), age, delay0, delay2, bill1, bill2, amt1, amt2, y]);
  }
  return rows;
}

/** Writes the rows as a CSV with the UCI header, or the service's header (no ID, no SEX). */
export function writeSyntheticCsv(file: string, rows: readonly number[][], naming: 'uci' | 'service' = 'uci'): void {
  const lines =
    naming === 'uci'
      ? [UCI_COLUMNS.map((c) => `"${c}"`).join(','), ...rows.map((r) => r.join(','))]
      : [SERVICE_COLUMNS.join(','), ...rows.map((r) => [r[1], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10]].join(','))];
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** Every `every`-th ID, as a validation split file. */
export function writeSplit(file: string, n: number, every = 5): number[] {
  const ids = Array.from({ length: n }, (_, i) => i + 1).filter((id) => id % every === 0);
  writeFileSync(file, JSON.stringify({ ids }));
  return ids;
}

/** The synthetic rows as the trainer's input: float32 columns in card order, labels. */
export function syntheticColumns(rows: readonly number[][]): { columns: Float32Array[]; y: Uint8Array } {
  const pick = [1, 3, 4, 5, 6, 7, 8, 9];
  return {
    columns: pick.map((j) => Float32Array.from(rows, (r) => r[j]!)),
    y: Uint8Array.from(rows, (r) => r[10]!),
  };
}
