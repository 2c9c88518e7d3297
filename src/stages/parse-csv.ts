import { Transform, type TransformCallback } from 'node:stream';
import csv from 'csv-parser';
import { DriftlineError } from '../errors.js';
import { CHUNKS_BUFFERED, type Header, type Parsed, type RawRow, type RowError } from './types.js';
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
  private next = 0;

  constructor(private readonly maxColumns = Number.POSITIVE_INFINITY) {}

  map(rec: Record<string, string>): Header | RawRow | RowError | undefined {
    const cells = Object.values(rec);
    if (this.columns === undefined) {
      if (cells.length === 0) return undefined; // blank lines before the header
      if (cells.length > this.maxColumns) {
        throw new DriftlineError('DL_ERR_PAYLOAD_TOO_LARGE', `The header has ${cells.length} columns; at most ${this.maxColumns} are accepted (MAX_COLUMNS)`);
      }
      cells[0] = cells[0]!.replace(/^\uFEFF/, '');
      this.columns = cells.map((c) => c.trim());
      return { kind: 'header', format: 'csv', columns: this.columns };
    }
    // pandas skips blank lines without counting them; so do we.
    if (cells.length === 0 || (cells.length === 1 && cells[0] === '')) return undefined;
    const index = this.next++;
    if (cells.length !== this.columns.length) {
      return { kind: 'error', index, column: null, message: `expected ${this.columns.length} cells, found ${cells.length}` };
    }
    return { kind: 'row', index, cells };
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
  let rows: (RawRow | RowError)[] = [];
  const release = (): void => {
    if (rows.length === 0) return;
    stage.push({ kind: 'rows', rows } satisfies Parsed);
    rows = [];
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
  parser.on('data', (rec: Record<string, string>) => {
    try {
      const out = mapper.map(rec);
      if (out === undefined) return;
      if (out.kind === 'header') stage.push(out);
      else rows.push(out);
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
