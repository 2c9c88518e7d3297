import { Transform, type TransformCallback } from 'node:stream';
import csv from 'csv-parser';
import { DriftlineError } from '../errors.js';
import { CHUNKS_BUFFERED, type Cells, type Header, type ParsedOrSpans, type RowError } from './types.js';
import { LoneCrNormalizer } from '../line-endings.js';
import { PlainCsvLines, ragged } from './csv-spans.js';

export interface ParseCsvOptions {
  /** Largest row csv-parser will buffer; bounds memory on a never-ending quoted field. */
  maxRowBytes?: number;
  /** Most columns accepted in the header. */
  maxColumns?: number;
  /**
   * Rows of quote-free lines as CsvSpans (csv-spans.ts), for readers that take them (validation);
   * otherwise every row is csv-parser's, the reference the spans are tested against.
   */
  spans?: boolean;
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
      return ragged(index, this.n, Object.keys(rec).length);
    }
    return rec;
  }

  get sawHeader(): boolean {
    return this.columns !== undefined;
  }

  /** The header's cell count; 0 before the header. */
  get columnCount(): number {
    return this.n;
  }
}

const rowTooLarge = (max: number, cause?: unknown): DriftlineError =>
  new DriftlineError('DL_ERR_FIELD_TOO_LARGE', `A CSV row is larger than ${max} bytes (MAX_FIELD_BYTES, which bounds a whole CSV row)`, {
    cause,
  });

const tooManyColumns = (max: number): DriftlineError =>
  new DriftlineError('DL_ERR_TOO_MANY_COLUMNS', `The CSV header has more than ${max} columns (MAX_COLUMNS)`);

const LF = 10;
const CR = 13;
const EMPTY = Buffer.alloc(0);
/** An escaped quote, the only thing csv-parser rewrites in place. */
const ESCAPED_QUOTE = Buffer.from('""');
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
  /** After the push that ended the header line: where in its returned bytes the line ended. */
  headerEnd = -1;
  private quoted = false;
  private columns = 1;
  private bytes = 0;

  /**
   * `maxRowBytes` is csv-parser's, checked here too: whichever limit the header line crosses
   * first, in byte order, is the one reported, however the body is chunked.
   */
  constructor(
    private readonly maxColumns = Number.POSITIVE_INFINITY,
    private readonly maxRowBytes = Number.POSITIVE_INFINITY,
  ) {}

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
        this.headerEnd = i + 1 - at;
        break;
      }
    }
    return at === 0 ? chunk : chunk.subarray(at);
  }
}

/**
 * csv-parser unescapes "" by shifting the cell's bytes left inside the buffer it is given, so a
 * chunk that is a view of the caller's memory (a request body, a file read once and scored
 * twice) came back altered. It only writes when a cell holds "", and a "" cut across chunks
 * lands in a buffer csv-parser concatenated itself: copying just these chunks keeps the
 * caller's bytes intact at no cost to plain numeric CSV.
 */
const unaltered = (bytes: Buffer): Buffer => (bytes.includes(ESCAPED_QUOTE) ? Buffer.from(bytes) : bytes);

/**
 * csv-parser with our mapping around it: line endings, the header guard, row chunks. Used by the
 * stream stage (bytes as they arrive) and by whole small bodies (`parseAll`, synchronous:
 * csv-parser emits every row of a write before write returns).
 */
export class CsvParseCore {
  private readonly mapper: CsvRecordMapper;
  private readonly parser: ReturnType<typeof csv>;
  private readonly crlf = new LoneCrNormalizer();
  private readonly guard: CsvHeaderGuard;
  private rows: (Cells | RowError)[] = [];
  private first = 0;
  /** An error raised inside a csv-parser callback, rethrown once control is back with us. */
  private failure: Error | undefined;
  /** Until the header: nothing yet; then the fast path, until it hands the rest to csv-parser. */
  private fast: PlainCsvLines | undefined;
  private handedOver = false;

  constructor(
    private readonly opts: ParseCsvOptions,
    private readonly emit: (p: ParsedOrSpans) => void,
  ) {
    this.mapper = new CsvRecordMapper(opts.maxColumns);
    this.parser = csv({ mapHeaders: this.mapper.mapHeader, strict: false, maxRowBytes: opts.maxRowBytes ?? 64 * 1024 * 1024 });
    this.guard = new CsvHeaderGuard(opts.maxColumns, opts.maxRowBytes ?? 64 * 1024 * 1024);
    this.parser.on('headers', () => {
      try {
        this.emit(this.mapper.header());
      } catch (err) {
        this.failure ??= err as Error;
      }
    });
    this.parser.on('data', (rec: Record<string, string>) => {
      const out = this.mapper.map(rec);
      if (out !== undefined) this.rows.push(out);
    });
  }

  get parserStream(): ReturnType<typeof csv> {
    return this.parser;
  }

  /**
   * Takes a chunk of the body; returns the bytes csv-parser should see next (may throw the
   * header guard's errors). With the fast path on, csv-parser reads the header line alone (written
   * here, it emits the header before this returns) and the lines after it go to the fast path,
   * until a line it leaves to csv-parser: from there on everything is csv-parser's.
   */
  prepare(chunk: Buffer): Buffer {
    return unaltered(this.route(this.guard.push(this.crlf.push(chunk))));
  }

  private route(bytes: Buffer): Buffer {
    if (this.handedOver || this.opts.spans !== true) return bytes;
    if (this.fast === undefined) {
      const end = this.guard.headerEnd;
      if (end === -1) return bytes;
      this.parser.write(unaltered(bytes.subarray(0, end)));
      this.check();
      const columns = this.mapper.columnCount;
      if (columns === 0) return this.handOver(bytes.subarray(end));
      this.fast = new PlainCsvLines(columns, this.opts.maxRowBytes ?? 64 * 1024 * 1024, this.mapper, this.emit);
      return this.fastPush(bytes.subarray(end), false);
    }
    return this.fastPush(bytes, false);
  }

  /** True while no byte after the header has gone to csv-parser. */
  get fastPathOnly(): boolean {
    return this.fast !== undefined && !this.handedOver;
  }

  private fastPush(bytes: Buffer, final: boolean): Buffer {
    const rest = this.fast!.push(bytes, final);
    return rest === undefined ? EMPTY : this.handOver(rest);
  }

  private handOver(rest: Buffer): Buffer {
    this.handedOver = true;
    this.first = this.mapper.next;
    return rest;
  }

  /** Rethrows a failure raised inside a csv-parser callback. */
  check(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** Sends the rows parsed so far on as one chunk (after `check`). */
  release(): void {
    this.check();
    if (this.rows.length > 0) this.emit({ kind: 'rows', first: this.first, rows: this.rows });
    this.rows = [];
    this.first = this.mapper.next;
  }

  /** The bytes csv-parser should see last, once the body has ended. */
  tail(): Buffer {
    const tail = this.crlf.end();
    return unaltered(this.fast === undefined || this.handedOver ? tail : this.fastPush(tail, true));
  }

  finish(): void {
    this.release();
    if (!this.mapper.sawHeader) throw new DriftlineError('DL_ERR_EMPTY_BODY', 'The CSV is empty: no header line');
  }

  /** A whole body at once. Its length must be within maxRowBytes, so csv-parser cannot fail it. */
  parseAll(body: Buffer): void {
    const bytes = this.prepare(body);
    this.parser.end(Buffer.concat([bytes, this.tail()]));
    this.finish();
  }
}

/** bytes → Header, rows … (csv-parser does the CSV grammar: quotes, CRLF). */
export function createParseCsv(opts: ParseCsvOptions = {}): Transform {
  const core = new CsvParseCore(opts, (p) => stage.push(p));
  const parser = core.parserStream;
  const stage: Transform = new Transform({
    readableObjectMode: true,
    readableHighWaterMark: CHUNKS_BUFFERED,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      let bytes: Buffer;
      try {
        bytes = core.prepare(chunk);
      } catch (err) {
        return cb(err as Error);
      }
      // The fast path took every line: no csv-parser round (its callback comes a tick later).
      if (bytes.length === 0 && core.fastPathOnly) {
        try {
          core.release();
          return cb();
        } catch (e) {
          return cb(e as Error);
        }
      }
      parser.write(bytes, (err) => {
        try {
          // A header failure comes first in byte order: it wins over csv-parser's own error.
          core.check();
          if (err !== undefined && err !== null) return cb(csvError(err, opts));
          core.release();
          cb();
        } catch (e) {
          cb(e as Error);
        }
      });
    },
    flush(cb: TransformCallback) {
      parser.once('end', () => {
        try {
          core.finish();
          cb();
        } catch (err) {
          cb(err as Error);
        }
      });
      parser.end(core.tail());
    },
    destroy(err, cb) {
      parser.destroy();
      cb(err);
    },
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
