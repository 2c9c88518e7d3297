import type { CsvSpans, RowError, Rows } from './types.js';

const LF = 10;
const CR = 13;
const QUOTE = 34;
const COMMA = 44;
/**
 * A line longer than this goes to csv-parser: the held part of a line is copied again with
 * every chunk, which is no cost for rows of a few hundred bytes but quadratic for a huge one.
 */
const LONG_LINE = 64 * 1024;

/** The cells csv-parser would have made of a span row: its strings, by column. */
export function spanCells(s: CsvSpans, r: number): string[] {
  const stride = s.n + 1;
  const at = r * stride;
  const cells = new Array<string>(s.n);
  for (let c = 0; c < s.n; c++) cells[c] = s.buf.toString('utf8', s.bounds[at + c]!, s.bounds[at + c + 1]! - 1);
  return cells;
}

/** Every row of a span chunk as csv-parser's cells (for readers that want strings). */
export const allSpanCells = (s: CsvSpans): string[][] => Array.from({ length: s.rows }, (_, r) => spanCells(s, r));

/**
 * The fast path of CSV parsing, after the header line: lines without a quote, split at commas
 * by byte. csv-parser, the reference, spends most of a bulk upload's main thread (parseLine,
 * Buffer slices, a string per cell, an object per row: bench/sections/bulk.ts's profile); this
 * loop only notes where each cell starts, and validation reads the numbers from the bytes.
 *
 * On a quote-free line csv-parser's grammar is small, and this reproduces it: a line ends at LF
 * (a lone CR was made LF before either sees it, and the CR of a CRLF is dropped), cells are the
 * bytes between commas, decoded as UTF-8, a line with nothing on it is no row. Anything else —
 * a quote, a line longer than maxRowBytes — is left to csv-parser: `push` hands back the bytes
 * from the start of that line, and csv-parser takes the rest of the upload from there, so its
 * state is that of a parser that has just finished a line. test/csv-spans-property.test.ts
 * compares the two on generated bodies cut at random places.
 */
export class PlainCsvLines {
  /** The bytes of a line not yet ended, from the last chunk. */
  private carry: Buffer | undefined;
  private scratch = new Int32Array(0);

  constructor(
    /** The header's cell count. */
    private readonly n: number,
    private readonly maxRowBytes: number,
    /** The row number of the next row (shared with csv-parser's mapper, which goes on from it). */
    private readonly counter: { next: number },
    private readonly emit: (p: CsvSpans | Rows) => void,
  ) {}

  /**
   * Takes the whole lines of `chunk`, emitting them as spans (a ragged line as a RowError);
   * returns the bytes from the first line it leaves to csv-parser, or undefined if it took all.
   * With `final`, the held bytes and `chunk` end the input: a last line without LF is a line.
   */
  push(chunk: Buffer, final = false): Buffer | undefined {
    const buf = this.carry === undefined ? chunk : chunk.length === 0 ? this.carry : Buffer.concat([this.carry, chunk]);
    this.carry = undefined;
    const n = this.n;
    const stride = n + 1;
    const len = buf.length;
    // A row of n cells takes at least n bytes (n − 1 commas and a line end).
    const need = (Math.floor(len / n) + 1) * stride;
    if (this.scratch.length < need) this.scratch = new Int32Array(need);
    const bounds = this.scratch;
    const max = this.maxRowBytes;
    // The first line holding a quote, and every line after it, are csv-parser's.
    const quoteAt = buf.indexOf(QUOTE);
    let rows = 0;
    let pos = 0;
    let high = false;
    // Locals only in this loop (a closure over them would move them to the heap).
    while (pos < len) {
      let lf = buf.indexOf(LF, pos);
      const last = lf === -1;
      if (last) {
        if (!final) break;
        lf = len;
      }
      // csv-parser counts a line's bytes with its LF (a final line has none) against the limit.
      if ((quoteAt !== -1 && quoteAt < lf) || lf - pos + (last ? 0 : 1) > max || lf - pos > LONG_LINE) {
        this.flush(buf, bounds, rows, high);
        return buf.subarray(pos);
      }
      const end = lf > pos && buf[lf - 1] === CR ? lf - 1 : lf;
      if (end > pos) {
        const b = rows * stride;
        bounds[b] = pos;
        let k = 0;
        for (let i = pos; i < end; i++) {
          const c = buf[i]!;
          if (c === COMMA) {
            if (++k < n) bounds[b + k] = i + 1;
          } else if (c > 127) high = true;
        }
        if (k === n - 1) {
          bounds[b + n] = end + 1;
          rows++;
        } else {
          this.flush(buf, bounds, rows, high);
          rows = 0;
          this.emit({ kind: 'rows', first: this.counter.next, rows: [ragged(this.counter.next++, n, k + 1)] });
        }
      }
      pos = lf + 1;
    }
    if (pos < len) {
      if (len - pos > Math.min(max, LONG_LINE)) {
        this.flush(buf, bounds, rows, high);
        return buf.subarray(pos);
      }
      this.carry = buf.subarray(pos);
    }
    this.flush(buf, bounds, rows, high);
    return undefined;
  }

  private flush(buf: Buffer, bounds: Int32Array, rows: number, high: boolean): void {
    if (rows === 0) return;
    this.emit({
      kind: 'spans',
      first: this.counter.next,
      rows,
      n: this.n,
      buf,
      bounds: bounds.slice(0, rows * (this.n + 1)),
      ascii: !high,
    });
    this.counter.next += rows;
  }
}

/** A row whose cell count is not the header's (csv-parser's records and the fast path's lines alike). */
export const ragged = (index: number, expected: number, found: number): RowError => ({
  kind: 'error',
  index,
  column: null,
  code: 'DL_ERR_ROW_WRONG_CELL_COUNT',
  message: `expected ${expected} cells, found ${found}`,
});
