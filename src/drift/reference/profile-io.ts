// reference.json on disk: validated with zod on read (a hand-edited or truncated file fails
// with every problem listed), written atomically (temp file + rename) so a reader never sees
// half a profile.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DriftlineError } from '../../errors.js';
import { checkWith, readJsonFile, type Checked } from '../../json-file.js';
import type { ReferenceProfile } from '../types.js';
import { calibrationSchema } from './calibration.js';

const finite = z.number().finite();

const digestSchema = z.object({
  compression: z.number().positive(),
  min: finite.nullable(),
  max: finite.nullable(),
  means: z.array(finite),
  weights: z.array(z.number().positive()),
});

const binsSchema = z
  .object({
    mode: z.enum(['values', 'quantile']),
    edges: z.array(finite).min(1),
    counts: z.array(z.number().int().nonnegative()),
    inner_counts: z.array(z.number().int().nonnegative()).optional(),
    inner_sums: z.array(z.number().nonnegative()).optional(),
  })
  .superRefine((b, ctx) => {
    const n = b.edges.length;
    for (let i = 1; i < n; i++) {
      if (!(b.edges[i]! > b.edges[i - 1]!)) {
        ctx.addIssue({ code: 'custom', path: ['edges', i], message: 'edges must increase strictly' });
        break;
      }
    }
    if (b.counts.length !== n) ctx.addIssue({ code: 'custom', path: ['counts'], message: `expected ${n} counts` });
    if (b.mode === 'quantile' && (b.inner_counts?.length !== n || b.inner_sums?.length !== n)) {
      ctx.addIssue({ code: 'custom', path: ['inner_counts'], message: `quantile bins need ${n} inner_counts and inner_sums` });
    }
  });

const columnSchema = z
  .object({
    name: z.string().min(1),
    type: z.enum(['num', 'cat']),
    count: z.number().int().positive(),
    missing: z.number().int().nonnegative(),
    mean: finite,
    std: z.number().nonnegative(),
    min: finite,
    max: finite,
    n_unique: z.number().int().positive(),
    bins: binsSchema,
    tdigest: digestSchema,
    // Optional: profiles written before string columns existed load unchanged.
    categories: z.array(z.string().min(1)).min(1).optional(),
  })
  .superRefine((c, ctx) => {
    const cats = c.categories;
    if (cats === undefined) return;
    // The window codes strings through this list: bins must be one per code, 0 … k−1.
    if (c.type !== 'cat') ctx.addIssue({ code: 'custom', path: ['type'], message: 'a column with categories is categorical' });
    const k = cats.length;
    if (c.bins.mode !== 'values' || c.bins.edges.length !== k || c.bins.edges.some((e, i) => e !== i)) {
      ctx.addIssue({ code: 'custom', path: ['bins'], message: `a column of ${k} categories needs one bin per code, edges 0 … ${k - 1}` });
    }
    for (let i = 1; i < k; i++) {
      if (!(cats[i]! > cats[i - 1]!)) {
        ctx.addIssue({ code: 'custom', path: ['categories', i], message: 'categories must be sorted and distinct' });
        break;
      }
    }
  });

export const referenceProfileSchema = z.object({
  format: z.literal('driftline-reference-profile'),
  version: z.literal(1),
  id: z.string().min(1),
  created_at: z.string(),
  source: z.string().nullable(),
  rows: z.number().int().nonnegative(),
  features: z.array(columnSchema).min(1),
  prediction: columnSchema.nullable(),
  target: columnSchema.nullable(),
  calibration: calibrationSchema.optional(),
});

// A broken profile can hold thousands of problems: the message lists the first 20.
const PROFILE: Checked = { code: 'DL_ERR_REFERENCE', what: 'reference profile', listed: 20 };

export function parseProfile(raw: unknown, source = 'reference profile'): ReferenceProfile {
  return checkWith(referenceProfileSchema, raw, PROFILE, source);
}

export function readProfile(file: string): ReferenceProfile {
  return readJsonFile(file, referenceProfileSchema, PROFILE);
}

export function writeProfile(file: string, profile: ReferenceProfile): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(profile)}\n`);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new DriftlineError('DL_ERR_REFERENCE', `Cannot write reference profile ${file}: ${(err as Error).message}`, { cause: err });
  }
}
