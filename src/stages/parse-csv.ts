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
 * Pure core: csv-parser's records → Header, then rows. csv-parser is told each column's key is
 * its position ("0", "1", …): rows stay csv-parser's own objects, addressed by column index,
 * and duplicate column names can't collapse into one key. Ragged rows become RowErrors rather
 * than being padded or cut, so that a shifted cell can never be predicted as the wrong feature.
 */
export class CsvRecordMapper {
  private readonly names: string[] = [];
  private columns: string[] | undefined;
  private n = 0;
  private extra = '_0';
  next = 0;

  constructor(private readonly maxColumns = Number.POSITIVE_INFINITY) {}

  /** csv-parser's mapHeaders hook: remembers the name, keys the column by its position. */
  readonly mapHeader = ({ header, index }: { header: string; index: number }): string => {
    this.names[index] = index === 0 ? header.replace(/^\uFEFF/, '').trim() : header.trim();
    return String(index);
  };

  /** Called once the header line is parsed. */
  header(): Header {
    if (this.names.length === 0 || (this.names.length === 1 && this.names[0] === '')) {
      throw new DriftlineError('DL_ERR_EMPTY_BODY', 'The CSV header line is empty');
    }
    if (this.names.length > this.maxColumns) throw tooManyColumns(this.maxColumns);
    this.columns = this.names;
    this.n = this.names.length;
    // csv-parser keys cells beyond the header "_<index>".
    this.extra = `_${this.n}`;
    return { kind: 'header', format: 'csv', columns: this.columns };
  }

  map(rec: Record<string, string>): Cells | RowError | undefined {
    // pandas skips blank lines without counting them; so do we.
    if (rec[0] === undefined) return undefined;
    const index = this.next++;
    // Two lookups tell a ragged row, without counting its keys.
    if (rec[this.n - 1] === undefined || rec[this.extra] !== undefined) {
      return { kind: 'error', index, column: null, message: `expected ${this.n} cells, found ${Object.keys(rec).length}` };
    }
    return rec;
  }

  get sawHeader(): boolean {
    return this.columns !== undefined;
  }
}

const rowTooLarge = (max: number, cause?: unknown): DriftlineError =>
  new DriftlineError('DL_ERR_FIELD_TOO_LARGE', `A CSV row is larger than ${max} bytes (MAX_FIELD_BYTES, which bounds a whole CSV row)`, { cause });

const tooManyColumns = (max: number): DriftlineError =>
  new DriftlineError('DL_ERR_TOO_MANY_COLUMNS', `The CSV header has more than ${max} columns (MAX_COLUMNS)`);

const LF = 10;
const CR = 13;
const QUOTE = 34;
const COMMA = 44;

/**
 * Pure core, in front of csv-parser until the header line has gone by. It drops blank lines
 * before the header (pandas skips them; csv-parser would read the first as an empty header), and
 * counts the header's columns as its bytes arrive: a header of a million columns fails at column
 * MAX_COLUMNS + 1, before csv-parser has built a million-cell row. Quotes toggle as csv-parser
 * toggles them when it looks for the end of a row; for malformed quoting the count can run
 * high, which only matters past MAX_COLUMNS.
 */
export class CsvHeaderGuard {
  private started = false;
  private done = false;
  private quoted = false;
  private columns = 1;
  private bytes = 0;

  /**
   * `maxRowBytes` is csv-parser's, checked here too: whichever limit the header line crosses
   * first, in byte order, is the one reported, however the body is chunked.
   */
  constructor(private readonly maxColumns = Number.POSITIVE_INFINITY, private readonly maxRowBytes = Number.POSITIVE_INFINITY) {}

  push(chunk: Buffer): Buffer {
    if (this.done) return chunk;
    let at = 0;
    if (!this.started) {
      while (at < chunk.length && (chunk[at] === LF || chunk[at] === CR)) at++;
      if (at === chunk.length) return chunk.subarray(at);
      this.started = true;
    }
    for (let i = at; i < chunk.length; i++) {
      const c = chunk[i];
      if (++this.bytes > this.maxRowBytes) throw rowTooLarge(this.maxRowBytes);
      if (c === QUOTE) this.quoted = !this.quoted;
      else if (this.quoted) continue;
      else if (c === COMMA) {
        if (++this.columns > this.maxColumns) throw tooManyColumns(this.maxColumns);
      } else if (c === LF) {
        this.done = true;
        break;
      }
    }
    return at === 0 ? chunk : chunk.subarray(at);
  }
}

/** bytes → Header, rows … (csv-parser does the CSV grammar: quotes, CRLF). */
export function createParseCsv(opts: ParseCsvOptions = {}): Transform {
  const mapper = new CsvRecordMapper(opts.maxColumns);
  const parser = csv({ mapHeaders: mapper.mapHeader, strict: false, maxRowBytes: opts.maxRowBytes ?? 64 * 1024 * 1024 });
  const crlf = new LoneCrNormalizer();
  const guard = new CsvHeaderGuard(opts.maxColumns, opts.maxRowBytes ?? 64 * 1024 * 1024);
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
      let bytes: Buffer;
      try {
        bytes = guard.push(crlf.push(chunk));
      } catch (err) {
        return cb(err as Error);
      }
      parser.write(bytes, (err) => {
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
  parser.on('headers', () => {
    try {
      stage.push(mapper.header());
    } catch (err) {
      stage.destroy(err as Error);
      parser.destroy();
    }
  });
  parser.on('data', (rec: Record<string, string>) => {
    const out = mapper.map(rec);
    if (out !== undefined) rows.push(out);
  });
  parser.on('error', (err: Error) => stage.destroy(csvError(err, opts)));
  return stage;
}

function csvError(err: Error, opts: ParseCsvOptions): DriftlineError {
  if (err instanceof DriftlineError) return err;
  return /maximum size|maxRowBytes/i.test(err.message)
    ? rowTooLarge(opts.maxRowBytes ?? 64 * 1024 * 1024, err)
    : new DriftlineError('DL_ERR_BAD_INPUT', `Malformed CSV: ${err.message}`, { cause: err });
}
