import { Transform, type TransformCallback } from 'node:stream';
import csv from 'csv-parser';
import { DriftlineError } from '../errors.js';
import { CHUNKS_BUFFERED, type Cells, type Header, type Parsed, type RowError } from './types.js';
import { LoneCrNormalizer } from './line-endings.js';

export interface ParseCsvOptions {
  /** Largest row csv-parser will buffer; bounds memory on a never-ending quoted field. */
  maxRowBytes?: number;
  /** Most columns accepted in the header. */
  maxColumns?: number;
}

/**
 * Pure core: turns csv-parser's positional records (`{0: .., 1: ..}`, header line included)
 * into a Header, then RawRows. Ragged rows become RowErrors rather than being padded or cut, so
 * that a shifted cell can never be predicted as the wrong feature.
 */
export class CsvRecordMapper {
  private columns: string[] | undefined;
  private n = 0;
  next = 0;

  constructor(private readonly maxColumns = Number.POSITIVE_INFINITY) {}

  map(rec: Record<number, string>): Header | Cells | RowError | undefined {
    if (this.columns === undefined) {
      const cells = Object.values(rec);
      if (cells.length === 0) return undefined; // blank lines before the header
      if (cells.length > this.maxColumns) {
        throw new DriftlineError('DL_ERR_PAYLOAD_TOO_LARGE', `The header has ${cells.length} columns; at most ${this.maxColumns} are accepted (MAX_COLUMNS)`);
      }
      cells[0] = cells[0]!.replace(/^\uFEFF/, '');
      this.columns = cells.map((c) => c.trim());
      this.n = this.columns.length;
      return { kind: 'header', format: 'csv', columns: this.columns };
    }
    // pandas skips blank lines without counting them; so do we.
    if (rec[0] === undefined || (rec[1] === undefined && rec[0] === '' && this.n > 1)) return undefined;
    const index = this.next++;
    // Two lookups tell a ragged row, without counting its keys.
    if (rec[this.n - 1] === undefined || rec[this.n] !== undefined) {
      return { kind: 'error', index, column: null, message: `expected ${this.n} cells, found ${Object.keys(rec).length}` };
    }
    return rec;
  }

  get sawHeader(): boolean {
    return this.columns !== undefined;
  }
}

/** bytes → Header, rows … (csv-parser does the CSV grammar: quotes, CRLF). */
export function createParseCsv(opts: ParseCsvOptions = {}): Transform {
  const parser = csv({ headers: false, strict: false, maxRowBytes: opts.maxRowBytes ?? 64 * 1024 * 1024 });
  const mapper = new CsvRecordMapper(opts.maxColumns);
  const crlf = new LoneCrNormalizer();
  // csv-parser emits every row of a chunk synchronously inside write(); they leave as one chunk.
  let rows: (Cells | RowError)[] = [];
  let first = 0;
  const release = (): void => {
    if (rows.length > 0) stage.push({ kind: 'rows', first, rows } satisfies Parsed);
    rows = [];
    first = mapper.next;
  };
  const stage = new Transform({
    readableObjectMode: true,
    readableHighWaterMark: CHUNKS_BUFFERED,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      parser.write(crlf.push(chunk), (err) => {
        release();
        cb(err === undefined || err === null ? null : csvError(err, opts));
      });
    },
    flush(cb: TransformCallback) {
      parser.once('end', () => {
        release();
        if (!mapper.sawHeader) return cb(new DriftlineError('DL_ERR_EMPTY_BODY', 'The CSV is empty: no header line'));
        cb();
      });
      parser.end(crlf.end());
    },
    destroy(err, cb) {
      parser.destroy();
      cb(err);
    },
  });
  parser.on('data', (rec: Record<number, string>) => {
    try {
      const out = mapper.map(rec);
      if (out === undefined) return;
      if ((out as Header).kind === 'header') stage.push(out);
      else rows.push(out as Cells | RowError);
    } catch (err) {
      stage.destroy(err as Error);
    }
  });
  parser.on('error', (err: Error) => stage.destroy(csvError(err, opts)));
  return stage;
}

function csvError(err: Error, opts: ParseCsvOptions): DriftlineError {
  if (err instanceof DriftlineError) return err;
  return /maximum size|maxRowBytes/i.test(err.message)
    ? new DriftlineError('DL_ERR_PAYLOAD_TOO_LARGE', `A CSV row is larger than ${opts.maxRowBytes ?? 64 * 1024 * 1024} bytes (MAX_FIELD_BYTES)`, { cause: err })
    : new DriftlineError('DL_ERR_BAD_INPUT', `Malformed CSV: ${err.message}`, { cause: err });
}
