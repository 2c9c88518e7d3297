import { Transform, type TransformCallback } from 'node:stream';
import {
  decision,
  PROBABILITY_DECIMALS,
  PROBABILITY_SCALE,
  riskLevel,
  roundProbability,
  type ModelCard,
  type RiskLevel,
} from '../model/card.js';
import { csvCell, formulaStart } from '../csv-cell.js';
import { ByteWriter } from './byte-writer.js';
import { spanCells } from './csv-spans.js';
import { CHUNKS_BUFFERED, type Batch, type Batched, type Cells, type CsvSpans, type RowError } from './types.js';

export type OutputFormat = 'json' | 'ndjson' | 'csv';

export interface FormatContext {
  card: ModelCard;
  requestId: string;
  /** Most row errors listed in a JSON response; beyond it they are only counted. */
  maxJsonErrors?: number;
}

export interface Summary {
  n_rows: number;
  n_rejected: number;
}

/** 10^7 … 10^10: a float32 in (0.1, 1) needs 7 to 9 decimals, and fewer than 7 rarely read back. */
const SCALES = [1e7, 1e8, 1e9, 1e10];
const FIRST_DECIMALS = 7;

/** The fewest decimals (7 to 10) at which p rounds to a decimal that reads back as p; 0 if none. */
function float32Decimals(p: number): number {
  for (let i = 0; i < SCALES.length; i++) {
    if (Math.fround(Math.round(p * SCALES[i]!) / SCALES[i]!) === p) return FIRST_DECIMALS + i;
  }
  return 0;
}

/**
 * A short decimal that reads back as the same float32 (what the model produced). Probabilities
 * lie in [0, 1], so a few fixed scales find it.
 */
export function float32String(p: number): string {
  const d = float32Decimals(p);
  if (d === 0) return String(p);
  const scale = SCALES[d - FIRST_DECIMALS]!;
  return String(Math.round(p * scale) / scale);
}

/** float32String(p) as bytes, its digits written from an integer (no double → string). */
export function writeFloat32(w: ByteWriter, p: number): void {
  // Below 1e-6 String() writes an exponent, which decimal() does not: those keep the string.
  const d = p >= 1e-6 && p <= 1 ? float32Decimals(p) : 0;
  if (d === 0) w.string(float32String(p));
  else w.decimal(Math.round(p * SCALES[d - FIRST_DECIMALS]!), d);
}

/** `${roundProbability(p)}` as bytes (the original service's JSON rounding), digits from an integer. */
export function writeRound4(w: ByteWriter, p: number): void {
  if (p >= 0 && p <= 1) w.decimal(Math.round(p * PROBABILITY_SCALE), PROBABILITY_DECIMALS);
  else w.string(String(roundProbability(p)));
}

const COMMA = 44;
const NEWLINE = 10;

/** Per-response constants: labels (by decision) and risk levels as this format spells them (quoted once). */
interface Spelled {
  label: readonly [string, string];
  risk: Readonly<Record<RiskLevel, string>>;
}

const JSON_ROW = '{"row":';
const JSON_PROB = ',"probability":';
const JSON_PRED = ',"prediction":';
const JSON_RISK = ',"risk_level":';
const JSON_END = '}';

/**
 * Pure core: turns Header/Batch records into output bytes. One instance per response; `end()`
 * gives the closing text and the counts.
 */
export class Formatter {
  private n = 0;
  private rejected = 0;
  private plain = new Uint8Array(0);
  private readonly errors: RowError[] = [];
  private wroteResult = false;
  private readonly maxErrors: number;
  private readonly out = new ByteWriter();
  private readonly spelled: Spelled;

  constructor(
    readonly format: OutputFormat,
    private readonly ctx: FormatContext,
  ) {
    this.maxErrors = ctx.maxJsonErrors ?? 10_000;
    const csv = format === 'csv';
    // CSV cells are quoted where needed; JSON values are JSON strings.
    const spell = (v: string): string => (csv ? csvCell(v) : JSON.stringify(v));
    const [no, yes] = ctx.card.labels;
    this.spelled = { label: [spell(no), spell(yes)], risk: { High: spell('High'), Medium: spell('Medium'), Low: spell('Low') } };
  }

  get counts(): Summary {
    return { n_rows: this.n, n_rejected: this.rejected };
  }

  start(): string {
    if (this.format !== 'json') return '';
    return `{"model_version":${JSON.stringify(this.ctx.card.version)},"request_id":${JSON.stringify(this.ctx.requestId)},"results":[`;
  }

  write(rec: Batched): Buffer {
    if (rec.kind === 'header') {
      // A valid row's numeric feature cells are plain numbers: nothing in them needs quoting.
      // A string feature's cell is the client's text, quoted and defused like any other.
      const names = new Set(this.ctx.card.features.flatMap((f) => (f.type === 'string' ? [] : [f.name, ...f.aliases])));
      this.plain = Uint8Array.from(rec.columns, (c) => (names.has(c) ? 1 : 0));
      return Buffer.from(
        this.format === 'csv' ? `${[...rec.columns, 'probability', 'prediction', 'risk_level'].map(csvCell).join(',')}\n` : '',
      );
    }
    this.batch(rec);
    return this.out.take();
  }

  // The loop over a batch's items stays small and the per-row writers are functions of their
  // own: V8 then optimises each once and for all, instead of recompiling one large loop whenever
  // a branch it had not seen yet (the first rejected row, the last iteration) turns up.
  private batch(b: Batch): void {
    const probs = b.results?.probabilities ?? new Float32Array(0);
    let r = 0;
    let e = 0;
    for (let i = 0; i < b.count; i++) {
      if (b.valid[i] === 1) this.row(b, r, probs[r++]!);
      else this.reject(b.errors[e++]!);
    }
  }

  private reject(err: RowError): void {
    this.rejected++;
    if (this.format === 'ndjson')
      this.out.string(`${JSON.stringify({ row: err.index, error: { column: err.column, code: err.code, message: err.message } })}\n`);
    else if (this.format === 'json' && this.errors.length < this.maxErrors) this.errors.push(err);
  }

  private row(b: Batch, r: number, p: number): void {
    const card = this.ctx.card;
    // The card's rules decide; the bytes for their answers were spelled once per response.
    const label = this.spelled.label[decision(card, p)];
    const level = this.spelled.risk[riskLevel(card, p)];
    this.n++;
    if (this.format === 'csv') this.csvRow(b, r, p, label, level);
    else this.jsonRow(b.rowIndex[r]!, p, label, level);
  }

  private csvRow(b: Batch, r: number, p: number, label: string, level: string): void {
    const w = this.out;
    const plain = this.plain;
    const kept = b.cells?.[r] ?? [];
    const spanRow = b.spanRow?.[r] ?? -1;
    let cells = kept as Cells;
    if (spanRow !== -1) {
      if (this.echo(kept as CsvSpans, spanRow)) return this.csvTail(p, label, level);
      cells = spanCells(kept as CsvSpans, spanRow);
    }
    for (let c = 0; c < plain.length; c++) {
      const v = cells[c];
      // A valid row's feature cell is a number (validated): written as is. Every other cell is
      // the client's text and goes through csvCell, which quotes it and defuses formulas.
      w.string(plain[c] === 1 && typeof v === 'string' ? v : csvCell(v));
      w.byte(COMMA);
    }
    this.csvTail(p, label, level);
  }

  /**
   * A span row's line copied as it came, when that is what the cells would be written as: ASCII,
   * and no cell outside the numeric features beginning like a formula (a span cell has no quote,
   * comma or line break, so csvCell changes nothing else). Otherwise false, and nothing written.
   */
  private echo(spans: CsvSpans, row: number): boolean {
    const { buf, bounds, n, ascii } = spans;
    const plain = this.plain;
    if (!ascii || plain.length !== n) return false;
    const base = row * (n + 1);
    for (let c = 0; c < n; c++) {
      if (plain[c] === 1) continue;
      const from = bounds[base + c]!;
      if (from === bounds[base + c + 1]! - 1) continue;
      if (formulaStart(buf[from]!)) return false;
    }
    this.out.bytes(buf, bounds[base]!, bounds[base + n]! - 1);
    this.out.byte(COMMA);
    return true;
  }

  private csvTail(p: number, label: string, level: string): void {
    const w = this.out;
    writeFloat32(w, p);
    w.byte(COMMA);
    w.string(label);
    w.byte(COMMA);
    w.string(level);
    w.byte(NEWLINE);
  }

  private jsonRow(index: number, p: number, label: string, level: string): void {
    const w = this.out;
    if (this.format === 'json' && this.wroteResult) w.byte(COMMA);
    this.wroteResult = true;
    w.string(JSON_ROW);
    w.int(index);
    w.string(JSON_PROB);
    // JSON keeps the original service's 4 decimals; NDJSON gives the float32 exactly.
    if (this.format === 'json') writeRound4(w, p);
    else writeFloat32(w, p);
    w.string(JSON_PRED);
    w.string(label);
    w.string(JSON_RISK);
    w.string(level);
    w.string(JSON_END);
    if (this.format === 'ndjson') w.byte(NEWLINE);
  }

  /** Closing text; `extra` fields join the JSON object or the NDJSON summary line. */
  end(extra: Record<string, unknown> = {}): string {
    const summary = { n_rows: this.n, n_rejected: this.rejected, ...extra };
    if (this.format === 'csv') return '';
    if (this.format === 'ndjson')
      return `${JSON.stringify({ summary: { model_version: this.ctx.card.version, request_id: this.ctx.requestId, ...summary } })}\n`;
    const errors = this.errors.map((e) => ({ row: e.index, column: e.column, code: e.code, message: e.message }));
    const tail = JSON.stringify({ errors, ...summary, ...(this.rejected > this.errors.length ? { errors_truncated: true } : {}) });
    return `],${tail.slice(1)}\n`;
  }
}

/** Header, Batch … → text in the chosen format (JSON in the original service's shape). */
export function createFormat(format: OutputFormat, ctx: FormatContext, extra?: () => Record<string, unknown>): Transform {
  const f = new Formatter(format, ctx);
  // The opening text (JSON's `{"model_version":…,"results":[`, the CSV header line) waits for
  // the first row to follow it: the status goes out with the first byte, so an upload that
  // fails before any row is written still gets its 4xx rather than a 200 and an error trailer.
  let held = f.start();
  return new Transform({
    writableObjectMode: true,
    writableHighWaterMark: CHUNKS_BUFFERED,
    // A few batches of output may wait for the socket or file, so that formatting the next
    // batch overlaps the write of the last one instead of waiting for it.
    readableHighWaterMark: 256 * 1024,
    transform(rec: Batched, _enc, cb: TransformCallback) {
      const bytes = f.write(rec);
      if (rec.kind === 'header' || bytes.length === 0) {
        held += bytes.toString();
        return cb();
      }
      const out = held === '' ? bytes : Buffer.concat([Buffer.from(held), bytes]);
      held = '';
      cb(null, out);
    },
    flush(cb: TransformCallback) {
      const s = held + f.end(extra?.() ?? {});
      held = '';
      cb(null, s === '' ? undefined : Buffer.from(s));
    },
  });
}

/**
 * What to append when a streamed response fails after its first bytes went out (the status is
 * already 200): JSON closes the results array and adds an `error`, NDJSON adds an error line.
 * CSV has no place for it; the caller cuts the connection so the client sees a truncated body.
 */
export function failureTrailer(format: OutputFormat, err: { code: string; message: string }): string | undefined {
  const error = { code: err.code, detail: err.message };
  if (format === 'json') return `],"error":${JSON.stringify(error)}}\n`;
  if (format === 'ndjson') return `${JSON.stringify({ error })}\n`;
  return undefined;
}
