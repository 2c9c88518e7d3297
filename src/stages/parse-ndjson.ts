import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';
import { DriftlineError } from '../errors.js';
import { rowCells } from './parse-json.js';
import { RowGatherer } from './gather.js';
import { CHUNKS_BUFFERED, type Cells, type Header, type KeyedRow, type RowError } from './types.js';

export interface ParseNdjsonOptions {
  /** Longest line accepted; bounds memory on a body with no line breaks. */
  maxLineBytes?: number;
  maxColumns?: number;
}

/**
 * Pure core: one JSON object per line. A line that is not a JSON object is a row error (the
 * stream goes on); blank lines are skipped. The partial last line is carried between chunks.
 */
export class NdjsonLineParser {
  private carry = '';
  private columns: string[] | undefined;
  private index = 0;

  /** The row number the next row will get. */
  get next(): number {
    return this.index;
  }
  private readonly decoder = new StringDecoder('utf8');
  private readonly maxLine: number;
  private readonly maxColumns: number;

  constructor(
    private readonly emit: (p: Header | Cells | RowError | KeyedRow) => void,
    opts: ParseNdjsonOptions = {},
  ) {
    this.maxLine = opts.maxLineBytes ?? 64 * 1024 * 1024;
    this.maxColumns = opts.maxColumns ?? Number.POSITIVE_INFINITY;
  }

  write(chunk: Buffer): void {
    // Only the new text is searched for line breaks: searching carry + text would rescan a long
    // partial line on every chunk.
    const text = this.decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      const line = this.carry === '' ? piece : this.carry + piece;
      this.carry = '';
      this.checkLength(line);
      this.line(line);
      start = nl + 1;
    }
    this.carry += start === 0 ? text : text.slice(start);
    // Characters never outnumber bytes: past the limit in characters is past it in bytes.
    if (this.carry.length > this.maxLine) throw this.tooLong();
  }

  private checkLength(line: string): void {
    // A line of n characters holds n to 3n bytes; count the bytes only where that decides.
    if (line.length > this.maxLine || (line.length * 3 > this.maxLine && Buffer.byteLength(line) > this.maxLine)) throw this.tooLong();
  }

  private tooLong(): DriftlineError {
    return new DriftlineError('DL_ERR_FIELD_TOO_LARGE', `An NDJSON line is longer than ${this.maxLine} bytes (MAX_FIELD_BYTES)`);
  }

  end(): void {
    const rest = this.carry + this.decoder.end();
    this.carry = '';
    this.checkLength(rest);
    if (rest.trim() !== '') this.line(rest);
    if (this.columns === undefined && this.index === 0) throw new DriftlineError('DL_ERR_EMPTY_BODY', 'The NDJSON body holds no rows');
  }

  private line(raw: string): void {
    const line = this.index === 0 && this.columns === undefined ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.trim() === '') return;
    const index = this.index++;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      this.emit({
        kind: 'error',
        index,
        column: null,
        code: 'DL_ERR_ROW_MALFORMED',
        message: `not valid JSON (${(err as Error).message})`,
      });
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.emit({ kind: 'error', index, column: null, code: 'DL_ERR_ROW_MALFORMED', message: 'the line is not a JSON object' });
      return;
    }
    const row = new Map(Object.entries(value as Record<string, unknown>));
    if (row.size > this.maxColumns)
      throw new DriftlineError('DL_ERR_TOO_MANY_COLUMNS', `An NDJSON row has more than ${this.maxColumns} columns (MAX_COLUMNS)`);
    // As in a JSON array body: a nested value is no cell. Past here it would be stringified
    // (error previews, CSV echo), which recurses and overflows the stack on a deep one.
    for (const [k, v] of row) {
      if (v !== null && typeof v === 'object') {
        this.emit({
          kind: 'error',
          index,
          column: null,
          code: 'DL_ERR_ROW_MALFORMED',
          message: `column ${JSON.stringify(k)} holds a nested ${Array.isArray(v) ? 'array' : 'object'}`,
        });
        return;
      }
    }
    if (this.columns === undefined) {
      this.columns = [...row.keys()];
      this.emit({ kind: 'header', format: 'ndjson', columns: this.columns });
    }
    this.emit(rowCells(this.columns, row));
  }
}

/** bytes → Header, rows … for `application/x-ndjson`. */
export function createParseNdjson(opts: ParseNdjsonOptions = {}): Transform {
  const gather = new RowGatherer((p) => stage.push(p));
  const core = new NdjsonLineParser(gather.emit, opts);
  const release = (): void => gather.release(core.next);
  const stage: Transform = new Transform({
    readableObjectMode: true,
    readableHighWaterMark: CHUNKS_BUFFERED,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        core.write(chunk);
        release();
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb: TransformCallback) {
      try {
        core.end();
        release();
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  return stage;
}
