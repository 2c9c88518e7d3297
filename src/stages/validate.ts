import { Transform, type TransformCallback } from 'node:stream';
import { z } from 'zod';
import { DriftlineError, type RowErrorCode } from '../errors.js';
import { stringFeatures, type FeatureSpec, type ModelCard } from '../model/card.js';
import { BlockBuilder } from './block.js';
import {
  CHUNKS_BUFFERED,
  isKeyedRow,
  isRowError,
  type Cells,
  type CsvSpans,
  type Header,
  type KeyedRow,
  type ParsedOrSpans,
  type RowBlock,
  type Rows,
  type Validated,
} from './types.js';

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * The row schema as zod describes it: documentation (OpenAPI) and the reference the compiled
 * checker below is tested against. Per row we don't run it: in bench/validate.bench.ts a zod
 * object parse costs ~30× the compiled checker (16 µs against 0.5 µs a row, 8 features), which
 * would make validation the slowest step of every upload.
 */
export function rowSchema(card: ModelCard): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const f of card.features) {
    if (f.type === 'string') {
      shape[f.name] = z
        .string()
        .refine((v) => v.trim() !== '', { error: 'empty value' })
        .describe(f.description ?? f.name);
      continue;
    }
    let n = z.coerce.number().refine(Number.isFinite, { error: 'not a finite number' });
    if (f.type === 'integer') n = n.refine(Number.isInteger, { error: 'not an integer' });
    if (f.min !== undefined) n = n.refine((v) => v >= f.min!, { error: `below the minimum ${f.min}` });
    if (f.max !== undefined) n = n.refine((v) => v <= f.max!, { error: `above the maximum ${f.max}` });
    shape[f.name] = n.describe(f.description ?? f.name);
  }
  return z.object(shape);
}

// A plain decimal or scientific literal. Number() alone would also take hex ("0x1f"), binary,
// "Infinity", "" (as 0) and whitespace-only strings, none of which is a value a user meant.
const NUMBER_RE = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** Why a cell is no usable feature value. */
export interface CellProblem {
  code: RowErrorCode;
  message: string;
}

const problem = (code: RowErrorCode, message: string): CellProblem => ({ code, message });

/** Parses one cell: its number, or why it is not a usable number. */
export function parseCell(cell: unknown): number | CellProblem {
  if (typeof cell === 'number') return Number.isFinite(cell) ? cell : problem('DL_ERR_ROW_NOT_A_NUMBER', 'not a finite number');
  if (typeof cell === 'string') {
    // Fast path for the common cell (a plain number with no surrounding blanks): Number() does
    // the work, and the few forms it accepts that we don't (hex/binary/octal, blanks as 0) are
    // caught by looking at the first characters. Anything else takes the strict path.
    const v = Number(cell);
    const c0 = cell.charCodeAt(0);
    if (c0 === 48 /* 0 */ && cell.length > 2) {
      const c1 = cell.charCodeAt(1) | 32;
      if (c1 === 120 || c1 === 98 || c1 === 111) return problem('DL_ERR_ROW_NOT_A_NUMBER', `not a number: ${preview(cell)}`);
    } else if (c0 > 32 && v !== 0 && Number.isFinite(v)) return v;
    if (cell.trim() === '') return problem('DL_ERR_ROW_EMPTY_VALUE', 'empty value');
    if (!NUMBER_RE.test(cell)) return problem('DL_ERR_ROW_NOT_A_NUMBER', `not a number: ${preview(cell)}`);
    return Number.isFinite(v) ? v : problem('DL_ERR_ROW_OUT_OF_RANGE', `out of range: ${preview(cell)}`);
  }
  if (cell === undefined) return problem('DL_ERR_ROW_MISSING_VALUE', 'missing value');
  if (cell === null) return problem('DL_ERR_ROW_EMPTY_VALUE', 'empty value');
  return problem('DL_ERR_ROW_NOT_A_NUMBER', `not a number: ${preview(cell)}`);
}

/**
 * The value of a cell that is a plain integer ("0", "-20", "150000": what most credit data
 * holds), else NaN. Number() gives the same value, at ~1.4× the cost of this loop on the fresh
 * strings csv-parser hands over (8 cells: ~250–340 against ~180–230 ns a row); anything
 * unusual — a sign "+", leading zeros, decimals, blanks, more than 15 digits — is left to
 * Number() and parseCell.
 */
export function plainInteger(s: string): number {
  const n = s.length;
  const from = n > 1 && s.charCodeAt(0) === 45 ? 1 : 0;
  if (n - from < 1 || n - from > 15 || (s.charCodeAt(from) === 48 && n - from > 1)) return Number.NaN;
  let v = 0;
  for (let i = from; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
  }
  return from === 1 ? -v : v;
}

/** plainInteger over bytes `buf[from, to)`: the same value, or NaN, without making a string. */
export function plainIntegerAt(buf: Uint8Array, from: number, to: number): number {
  const neg = to - from > 1 && buf[from] === 45 ? 1 : 0;
  const start = from + neg;
  const n = to - start;
  if (n < 1 || n > 15 || (buf[start] === 48 && n > 1)) return Number.NaN;
  let v = 0;
  for (let i = start; i < to; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
  }
  return neg === 1 ? -v : v;
}

function preview(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

function checkFeature(f: FeatureSpec, v: number): CellProblem | undefined {
  if (Math.abs(v) > FLOAT32_MAX) return problem('DL_ERR_ROW_OUT_OF_RANGE', `out of range: ${v} does not fit a float32`);
  if (f.type === 'integer' && !Number.isInteger(v)) return problem('DL_ERR_ROW_NOT_AN_INTEGER', `not an integer: ${v}`);
  if (f.min !== undefined && v < f.min) return problem('DL_ERR_ROW_OUT_OF_RANGE', `out of range: ${v} is below the minimum ${f.min}`);
  if (f.max !== undefined && v > f.max) return problem('DL_ERR_ROW_OUT_OF_RANGE', `out of range: ${v} is above the maximum ${f.max}`);
  return undefined;
}

/** Python's list repr, as the original service printed missing columns: ['age', 'credit_limit']. */
const pyList = (names: readonly string[]): string => `[${names.map((n) => `'${n}'`).join(', ')}]`;

export interface HeaderPlan {
  /** Input column index of each feature, in card order. */
  featureAt: number[];
  targetAt: number;
  /** A user-supplied `id` column, passed to the log so feedback can refer to it. */
  idAt: number;
}

/** Where a list of column names puts each feature, and what it lacks or names twice. */
interface Located extends HeaderPlan {
  missing: string[];
  duplicate: string[];
}

/**
 * Remembers the last `size` distinct column lists' results: the same few recur. Lists longer
 * than `maxKey` characters are worked out each time instead: a JSON row's keys may total
 * MAX_COLUMNS × MAX_FIELD_BYTES, which is no size to keep beyond the request.
 */
class ColumnsCache<T> {
  private readonly map = new Map<string, T>();
  constructor(
    private readonly size: number,
    private readonly maxKey = 16 * 1024,
  ) {}
  get(columns: readonly string[], make: (columns: readonly string[]) => T): T {
    const key = columns.join('\u0000');
    if (key.length > this.maxKey) return make(columns);
    let v = this.map.get(key);
    if (v === undefined) {
      v = make(columns);
      if (this.map.size >= this.size) this.map.delete(this.map.keys().next().value!);
      this.map.set(key, v);
    }
    return v;
  }
}

/** Compiled once per model card; `plan` once per upload; `row` per row. */
export class RowValidator {
  /** Per feature, compiled from the card: accepted range and whether it must be whole. */
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly integer: Uint8Array;
  /** Per feature: its slot among a row's strings, or -1 for a numeric feature. */
  private readonly slot: Int32Array;
  readonly nStrings: number;

  constructor(readonly card: ModelCard) {
    // A string feature gets an empty range, so its cells always leave the numeric fast path
    // for the check below: numeric models keep their per-row cost.
    const str = (f: FeatureSpec): boolean => f.type === 'string';
    this.lo = Float64Array.from(card.features, (f) => (str(f) ? Number.POSITIVE_INFINITY : Math.max(f.min ?? -FLOAT32_MAX, -FLOAT32_MAX)));
    this.hi = Float64Array.from(card.features, (f) => (str(f) ? Number.NEGATIVE_INFINITY : Math.min(f.max ?? FLOAT32_MAX, FLOAT32_MAX)));
    this.integer = Uint8Array.from(card.features, (f) => (f.type === 'integer' ? 1 : 0));
    const strs = stringFeatures(card);
    this.slot = Int32Array.from(card.features, (_, j) => strs.indexOf(j));
    this.nStrings = strs.length;
  }

  private readonly plans = new ColumnsCache<HeaderPlan>(64);
  private readonly located = new ColumnsCache<Located>(64);

  /**
   * `plan`, remembered for the last few distinct headers: clients send the same header on
   * every request. Headers that fail are not remembered (they throw every time).
   */
  cachedPlan(columns: readonly string[]): HeaderPlan {
    return this.plans.get(columns, (c) => this.plan(c));
  }

  /** `locate`, remembered: the keys of JSON rows that differ from their header's recur too. */
  cachedLocate(columns: readonly string[]): Located {
    return this.located.get(columns, (c) => this.locate(c));
  }

  locate(columns: readonly string[]): Located {
    const find = (names: readonly string[]): number[] => columns.flatMap((c, i) => (names.includes(c) ? [i] : []));
    const missing: string[] = [];
    const duplicate: string[] = [];
    const featureAt = this.card.features.map((f) => {
      const at = find([f.name, ...f.aliases]);
      if (at.length === 0) missing.push(f.name);
      if (at.length > 1) duplicate.push(f.name);
      return at[0] ?? -1;
    });
    const target = this.card.target;
    const targetAt = target === undefined ? [] : find([target.name, ...target.aliases]);
    if (targetAt.length > 1) duplicate.push(target!.name);
    const idAt = columns.indexOf('id') !== -1 ? columns.indexOf('id') : columns.indexOf('ID');
    return { featureAt, targetAt: targetAt[0] ?? -1, idAt, missing, duplicate };
  }

  plan(columns: readonly string[]): HeaderPlan {
    const { featureAt, targetAt, idAt, missing, duplicate } = this.locate(columns);
    if (missing.length > 0) {
      throw new DriftlineError('DL_ERR_SCHEMA_MISSING_COLUMNS', `Invalid schema. Missing required columns: ${pyList(missing)}`, {
        details: { missing },
      });
    }
    if (duplicate.length > 0) {
      throw new DriftlineError('DL_ERR_BAD_INPUT', `Invalid schema. Duplicate columns: ${pyList(duplicate)}`, { details: { duplicate } });
    }
    return { featureAt, targetAt, idAt };
  }

  /**
   * A keyed row's values placed under its header's columns, matched by what each name means
   * (feature, target) rather than by spelling; other columns by name. A feature the row lacks
   * stays undefined, which rowInto reports as a missing value under the header's name.
   */
  align(header: readonly string[], plan: HeaderPlan, row: KeyedRow): Cells | CellProblem {
    const own = this.cachedLocate(row.keys);
    if (own.duplicate.length > 0) {
      return problem('DL_ERR_ROW_DUPLICATE_COLUMN', `the row names ${pyList(own.duplicate)} more than once (by name and alias)`);
    }
    const cells = new Array<unknown>(header.length);
    for (let i = 0; i < header.length; i++) {
      const at = row.keys.indexOf(header[i]!);
      if (at !== -1) cells[i] = row.values[at];
    }
    for (let j = 0; j < plan.featureAt.length; j++) {
      const at = own.featureAt[j]!;
      cells[plan.featureAt[j]!] = at === -1 ? undefined : row.values[at];
    }
    if (plan.targetAt !== -1) cells[plan.targetAt] = own.targetAt === -1 ? undefined : row.values[own.targetAt];
    return cells;
  }

  /** Validates one row into `out`: its features at out.offset and a commit, or a rejection. */
  rowInto(out: BlockBuilder, plan: HeaderPlan, columns: readonly string[], index: number, cells: Cells, keepCells: boolean): void {
    const features = this.card.features;
    const { lo, hi, integer } = this;
    const dst = out.features;
    const at0 = out.offset;
    for (let j = 0; j < features.length; j++) {
      const at = plan.featureAt[j]!;
      const cell = cells[at];
      // The common cell, a plain in-range number, is checked inline; anything else (and every
      // failure, for its message) goes through parseCell/checkFeature.
      let v = Number.NaN;
      if (typeof cell === 'string') {
        v = plainInteger(cell);
        if (v !== v) {
          const c0 = cell.charCodeAt(0);
          if (c0 > 32 && (c0 !== 48 || cell.length < 3)) v = Number(cell);
        }
      } else if (typeof cell === 'number') v = cell;
      if (!(v >= lo[j]! && v <= hi[j]!) || (integer[j] === 1 && Math.floor(v) !== v)) {
        if (!this.otherCell(out, j, at, cell, index, columns)) return;
      } else dst[at0 + j] = v;
    }
    let target = Number.NaN;
    if (plan.targetAt !== -1) {
      const t = this.target(out, plan, columns, index, cells[plan.targetAt]);
      if (t === undefined) return;
      target = t;
    }
    const id = plan.idAt === -1 ? null : cells[plan.idAt];
    out.commit(index, target, id === undefined || id === null ? null : String(id), keepCells ? cells : undefined);
  }

  /**
   * A feature cell the inline check did not pass: a string feature's text, or a number checked
   * for its message. Writes the value and returns true, or rejects the row and returns false.
   */
  private otherCell(out: BlockBuilder, j: number, at: number, cell: unknown, index: number, columns: readonly string[]): boolean {
    const slot = this.slot[j]!;
    if (slot !== -1) {
      // Any text is a category (unseen ones included: data quality counts them); a JSON
      // number is taken as its text.
      const text = typeof cell === 'string' ? cell : typeof cell === 'number' && Number.isFinite(cell) ? String(cell) : undefined;
      if (text === undefined || text.trim() === '') {
        const bad =
          cell === undefined
            ? problem('DL_ERR_ROW_MISSING_VALUE', 'missing value')
            : text === undefined && cell !== null
              ? problem('DL_ERR_ROW_NOT_A_STRING', `not a string: ${preview(cell)}`)
              : problem('DL_ERR_ROW_EMPTY_VALUE', 'empty value');
        out.reject({ kind: 'error', index, column: columns[at]!, feature: j, ...bad });
        return false;
      }
      out.strings![out.stringOffset + slot] = text;
      out.features[out.offset + j] = Number.NaN;
      return true;
    }
    const parsed = parseCell(cell);
    const bad = typeof parsed === 'number' ? checkFeature(this.card.features[j]!, parsed) : parsed;
    if (bad !== undefined) {
      out.reject({ kind: 'error', index, column: columns[at]!, feature: j, ...bad });
      return false;
    }
    out.features[out.offset + j] = parsed as number;
    return true;
  }

  /** The label cell's value: 0, 1, or NaN when there is none; a bad label rejects the row (undefined). */
  private target(out: BlockBuilder, plan: HeaderPlan, columns: readonly string[], index: number, cell: unknown): number | undefined {
    if (cell === undefined || cell === null || (typeof cell === 'string' && cell.trim() === '')) return Number.NaN;
    const t = parseCell(cell);
    if (t === 0 || t === 1) return t;
    out.reject({
      kind: 'error',
      index,
      column: columns[plan.targetAt]!,
      code: 'DL_ERR_ROW_BAD_LABEL',
      message: `the label must be 0 or 1, got ${preview(cell)}`,
    });
    return undefined;
  }

  /**
   * rowInto for row `r` of a span chunk: the same checks, with a plain integer read from its
   * bytes (no string made); any other cell is decoded and checked as rowInto checks it.
   */
  spanInto(
    out: BlockBuilder,
    plan: HeaderPlan,
    columns: readonly string[],
    index: number,
    s: CsvSpans,
    r: number,
    keepCells: boolean,
  ): void {
    const { lo, hi, integer } = this;
    const nf = this.card.features.length;
    const buf = s.buf;
    const bounds = s.bounds;
    const base = r * (s.n + 1);
    const dst = out.features;
    const at0 = out.offset;
    for (let j = 0; j < nf; j++) {
      const at = plan.featureAt[j]!;
      const from = bounds[base + at]!;
      let v = plainIntegerAt(buf, from, bounds[base + at + 1]! - 1);
      if (v !== v || !(v >= lo[j]! && v <= hi[j]!)) {
        const cell = buf.toString('utf8', from, bounds[base + at + 1]! - 1);
        const c0 = cell.charCodeAt(0);
        v = c0 > 32 && (c0 !== 48 || cell.length < 3) ? Number(cell) : Number.NaN;
        if (!(v >= lo[j]! && v <= hi[j]!) || (integer[j] === 1 && Math.floor(v) !== v)) {
          if (!this.otherCell(out, j, at, cell, index, columns)) return;
          continue;
        }
      }
      dst[at0 + j] = v;
    }
    let target = Number.NaN;
    if (plan.targetAt !== -1) {
      const from = bounds[base + plan.targetAt]!;
      const to = bounds[base + plan.targetAt + 1]! - 1;
      const c = to - from === 1 ? buf[from]! - 48 : -1;
      if (c === 0 || c === 1) target = c;
      else {
        const t = this.target(out, plan, columns, index, buf.toString('utf8', from, to));
        if (t === undefined) return;
        target = t;
      }
    }
    const id = plan.idAt === -1 ? null : buf.toString('utf8', bounds[base + plan.idAt]!, bounds[base + plan.idAt + 1]! - 1);
    out.commit(index, target, id, keepCells ? s : undefined, r);
  }
}

// Compiled once per model card, not per upload: small requests arrive by the thousand.
const validators = new WeakMap<ModelCard, RowValidator>();
function compiled(card: ModelCard): RowValidator {
  let v = validators.get(card);
  if (v === undefined) validators.set(card, (v = new RowValidator(card)));
  return v;
}

/**
 * Pure core of the validate stage: plans the header once, then turns each chunk of parsed rows
 * into a RowBlock. A missing feature column fails at the header, a row beyond `maxRows`
 * (MAX_ROWS_PER_REQUEST) fails its chunk.
 */
export class ChunkValidator {
  private readonly validator: RowValidator;
  private readonly maxRows: number;
  private readonly keepCells: boolean;
  private header: Header | undefined;
  private plan: HeaderPlan | undefined;

  constructor(
    readonly card: ModelCard,
    opts: { maxRows?: number; keepCells?: boolean } = {},
  ) {
    this.validator = compiled(card);
    this.maxRows = opts.maxRows ?? Number.POSITIVE_INFINITY;
    this.keepCells = opts.keepCells === true;
  }

  onHeader(h: Header): void {
    this.plan = this.validator.cachedPlan(h.columns);
    this.header = h;
  }

  block(rec: Rows | CsvSpans): RowBlock {
    if (rec.kind === 'spans') return this.spans(rec);
    const { header, plan } = this;
    const rows = rec.rows;
    if (rec.first + rows.length > this.maxRows) {
      throw new DriftlineError('DL_ERR_TOO_MANY_ROWS', `The upload has more than ${this.maxRows} rows (MAX_ROWS_PER_REQUEST)`);
    }
    const out = new BlockBuilder(this.card.features.length, rows.length, {
      cells: this.keepCells,
      ids: plan !== undefined && plan.idAt !== -1,
      nStrings: this.validator.nStrings,
    });
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (isRowError(r)) out.reject(r);
      else if (header === undefined || plan === undefined) {
        throw new DriftlineError('DL_ERR_INTERNAL', 'a row reached validation before the header');
      } else if (isKeyedRow(r)) {
        const cells = this.validator.align(header.columns, plan, r);
        if (Array.isArray(cells)) this.validator.rowInto(out, plan, header.columns, rec.first + i, cells, this.keepCells);
        else out.reject({ kind: 'error', index: rec.first + i, column: null, ...(cells as CellProblem) });
      } else this.validator.rowInto(out, plan, header.columns, rec.first + i, r, this.keepCells);
    }
    return out.build();
  }

  private spans(rec: CsvSpans): RowBlock {
    const { header, plan } = this;
    if (rec.first + rec.rows > this.maxRows) {
      throw new DriftlineError('DL_ERR_TOO_MANY_ROWS', `The upload has more than ${this.maxRows} rows (MAX_ROWS_PER_REQUEST)`);
    }
    if (header === undefined || plan === undefined)
      throw new DriftlineError('DL_ERR_INTERNAL', 'a row reached validation before the header');
    const out = new BlockBuilder(this.card.features.length, rec.rows, {
      cells: this.keepCells,
      ids: plan.idAt !== -1,
      nStrings: this.validator.nStrings,
    });
    for (let r = 0; r < rec.rows; r++) this.validator.spanInto(out, plan, header.columns, rec.first + r, rec, r, this.keepCells);
    return out.build();
  }
}

/** Header, rows … → Header, validated rows … (see ChunkValidator). */
export function createValidateRows(card: ModelCard, opts: { maxRows?: number; keepCells?: boolean } = {}): Transform {
  const core = new ChunkValidator(card, opts);
  return new Transform({
    objectMode: true,
    highWaterMark: CHUNKS_BUFFERED,
    transform(rec: ParsedOrSpans, _enc, cb: TransformCallback) {
      try {
        if (rec.kind === 'header') {
          core.onHeader(rec);
          return cb(null, rec);
        }
        cb(null, { kind: 'block', ...core.block(rec) } satisfies Validated);
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}
