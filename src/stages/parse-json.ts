import { Transform, type Duplex, type TransformCallback } from 'node:stream';
import { parser as jsonParser } from 'stream-json';
import { DriftlineError } from '../errors.js';
import { RowGatherer } from './gather.js';
import { CHUNKS_BUFFERED, type Cells, type Header, type KeyedRow, type RowError } from './types.js';

export interface ParseJsonOptions {
  /** Longest string, key or number literal accepted (bytes of its text). */
  maxFieldBytes?: number;
  /** Deepest nesting tolerated (values nested inside rows are skipped as row errors). */
  maxDepth?: number;
  maxColumns?: number;
  /** Spacing of the tokenizer's writes, in bytes from the body's start (FixedBlocks). Default 16 KiB. */
  blockBytes?: number;
}

type Token = { name: string; value?: unknown };
type Scalar = string | number | boolean | null;

/**
 * Pure core: assembles rows from stream-json tokens of a body `[ {..}, {..}, … ]`. Everything
 * is streamed (strings and numbers arrive in chunks), so no single token can make us buffer
 * more than maxFieldBytes, and nesting is bounded by maxDepth.
 */
export class JsonRowAssembler {
  private depth = 0;
  private started = false;
  private columns: string[] | undefined;
  private index = 0;

  /** The row number the next row will get. */
  get next(): number {
    return this.index;
  }
  private row: Map<string, Scalar> | undefined;
  private key: string | undefined;
  private text = '';
  private textBytes = 0;
  private rowProblem: string | undefined;
  private readonly maxField: number;
  private readonly maxDepth: number;
  private readonly maxColumns: number;

  constructor(
    private readonly emit: (p: Header | Cells | RowError | KeyedRow) => void,
    opts: ParseJsonOptions = {},
  ) {
    this.maxField = opts.maxFieldBytes ?? 64 * 1024 * 1024;
    this.maxDepth = opts.maxDepth ?? 64;
    this.maxColumns = opts.maxColumns ?? Number.POSITIVE_INFINITY;
  }

  consume(tok: Token): void {
    switch (tok.name) {
      case 'startArray':
      case 'startObject':
        this.open(tok.name === 'startObject');
        return;
      case 'endArray':
      case 'endObject':
        this.close();
        return;
      case 'startKey':
      case 'startString':
      case 'startNumber':
        this.text = '';
        this.textBytes = 0;
        return;
      case 'stringChunk':
      case 'numberChunk': {
        const chunk = tok.value as string;
        // UTF-8 bytes, as the limit is documented; counted a chunk at a time, so linear.
        this.textBytes += Buffer.byteLength(chunk);
        if (this.textBytes > this.maxField) {
          throw new DriftlineError('DL_ERR_FIELD_TOO_LARGE', `A JSON value is longer than ${this.maxField} bytes (MAX_FIELD_BYTES)`);
        }
        this.text += chunk;
        return;
      }
      case 'endKey':
        this.key = this.text;
        return;
      case 'endString':
        this.scalar(this.text);
        return;
      case 'endNumber':
        this.scalar(Number(this.text));
        return;
      case 'nullValue':
        this.scalar(null);
        return;
      case 'trueValue':
      case 'falseValue':
        this.scalar(tok.name === 'trueValue');
        return;
      default:
        return; // packed duplicates of streamed tokens are not requested
    }
  }

  end(): void {
    if (!this.started) throw new DriftlineError('DL_ERR_EMPTY_BODY', 'The JSON body is empty');
    // Elements that are not row objects are row errors, as NDJSON lines are: only `[]` is empty.
    if (this.columns === undefined && this.index === 0) throw new DriftlineError('DL_ERR_EMPTY_BODY', 'The JSON array holds no rows');
  }

  private open(isObject: boolean): void {
    if (this.depth === 0) {
      if (isObject) throw new DriftlineError('DL_ERR_BAD_INPUT', 'The JSON body must be an array of row objects, e.g. [{"age": 30, …}]');
      this.started = true;
    } else if (this.depth === 1) {
      if (isObject) this.row = new Map();
      else this.rowProblem = 'the array element is an array, not a row object';
    } else if (this.depth === 2 && this.rowProblem === undefined) {
      this.rowProblem = `column ${JSON.stringify(this.key)} holds a nested ${isObject ? 'object' : 'array'}`;
    }
    this.depth++;
    if (this.depth > this.maxDepth) throw new DriftlineError('DL_ERR_BAD_INPUT', `The JSON is nested deeper than ${this.maxDepth} levels`);
  }

  private close(): void {
    this.depth--;
    if (this.depth === 1) this.finishElement();
  }

  private scalar(v: Scalar): void {
    if (this.depth === 0) throw new DriftlineError('DL_ERR_BAD_INPUT', 'The JSON body must be an array of row objects');
    if (this.depth === 1) {
      this.rowProblem = `the array element ${JSON.stringify(v)} is not a row object`;
      this.finishElement();
    } else if (this.depth === 2 && this.row !== undefined && this.key !== undefined) {
      this.row.set(this.key, v);
      if (this.row.size > this.maxColumns)
        throw new DriftlineError('DL_ERR_TOO_MANY_COLUMNS', `A JSON row has more than ${this.maxColumns} columns (MAX_COLUMNS)`);
    }
  }

  private finishElement(): void {
    const row = this.row;
    const problem = this.rowProblem;
    this.row = undefined;
    this.rowProblem = undefined;
    if (this.columns === undefined && row !== undefined && problem === undefined) {
      this.columns = [...row.keys()];
      this.emit({ kind: 'header', format: 'json', columns: this.columns });
    }
    const index = this.index++;
    if (problem !== undefined || row === undefined) {
      this.emit({ kind: 'error', index, column: null, code: 'DL_ERR_ROW_MALFORMED', message: problem ?? 'not a row object' });
      return;
    }
    this.emit(rowCells(this.columns!, row));
  }
}

/**
 * A row with the header's keys (in any order: the common case) as cells in header order. Any
 * other row goes on with its own keys, for validation to resolve: a later object may name the
 * features differently from the first (`LIMIT_BAL` for `credit_limit`), and aligning it to the
 * first row's names would read every such cell as missing.
 */
export function rowCells(columns: readonly string[], row: ReadonlyMap<string, unknown>): Cells | KeyedRow {
  if (row.size === columns.length) {
    const cells = new Array<unknown>(columns.length);
    let i = 0;
    // A JSON value is never undefined: an undefined get is a key the row does not have.
    for (; i < columns.length && (cells[i] = row.get(columns[i]!)) !== undefined; i++);
    if (i === columns.length) return cells;
  }
  return { kind: 'keyed', keys: [...row.keys()], values: [...row.values()] };
}

/** JSON's own whitespace only: a body of other blanks (\v, NBSP…) is malformed, not empty. */
function isJsonWhitespace(chunk: Buffer): boolean {
  for (const c of chunk) if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  return true;
}

/**
 * Re-cuts a byte stream at fixed offsets from its start, whatever pieces it arrived in.
 * stream-json tokenizes a write as a whole and, when the write holds a syntax error, drops every
 * token of it: the rows and limits before the error in that write are never seen. A body fed in
 * the client's pieces would then answer a row-level error (too many columns, a field too long)
 * or the syntax error depending on where the network cut it. Fed in blocks fixed by offset, the
 * tokenizer sees the same writes for the same bytes, so the answer depends on the bytes alone.
 */
export class FixedBlocks {
  private held: Buffer[] = [];
  private heldBytes = 0;

  constructor(private readonly size: number) {}

  /** The whole blocks completed by `chunk`, in order. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let at = 0;
    if (this.heldBytes > 0) {
      at = Math.min(chunk.length, this.size - this.heldBytes);
      this.hold(chunk.subarray(0, at));
      if (this.heldBytes < this.size) return out;
      out.push(Buffer.concat(this.held));
      this.held = [];
      this.heldBytes = 0;
    }
    for (; chunk.length - at >= this.size; at += this.size) out.push(chunk.subarray(at, at + this.size));
    if (at < chunk.length) this.hold(chunk.subarray(at));
    return out;
  }

  /** The last, partial block (none if the stream ended on a block boundary). */
  end(): Buffer[] {
    const out = this.heldBytes > 0 ? [Buffer.concat(this.held)] : [];
    this.held = [];
    this.heldBytes = 0;
    return out;
  }

  // A copy: the caller may reuse its chunk's memory once the chunk is handed on.
  private hold(piece: Buffer): void {
    this.held.push(Buffer.from(piece));
    this.heldBytes += piece.length;
  }
}

/** Offset spacing of the tokenizer's writes: small enough that rows stream back as they come. */
const BLOCK_BYTES = 16 * 1024;

/** bytes → Header, rows … for a JSON array body, never holding the whole body. */
export function createParseJson(opts: ParseJsonOptions = {}): Transform {
  const tokens = jsonParser.asStream({ packValues: false, streamValues: true, packKeys: false, streamKeys: true }) as Duplex;
  let sawInput = false;
  const gather = new RowGatherer((p) => stage.push(p));
  const core = new JsonRowAssembler(gather.emit, opts);
  const release = (): void => gather.release(core.next);
  const blocks = new FixedBlocks(opts.blockBytes ?? BLOCK_BYTES);
  // One block at a time: the parser's error reaches a write's callback as well as its 'error'
  // event, whichever first, and both must say the same typed thing.
  const write = (list: Buffer[], cb: (err?: Error | null) => void, i = 0): void => {
    if (i === list.length) return cb(null);
    tokens.write(list[i], (err) => {
      release();
      if (err !== undefined && err !== null) return cb(malformed(err));
      write(list, cb, i + 1);
    });
  };
  const stage: Transform = new Transform({
    readableObjectMode: true,
    readableHighWaterMark: CHUNKS_BUFFERED,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (!sawInput) sawInput = !isJsonWhitespace(chunk);
      write(blocks.push(chunk), cb);
    },
    flush(cb: TransformCallback) {
      write(blocks.end(), (err) => {
        if (err !== undefined && err !== null) return cb(err);
        tokens.once('end', () => {
          release();
          try {
            core.end();
            cb();
          } catch (e) {
            cb(e as Error);
          }
        });
        tokens.end();
      });
    },
    destroy(err, cb) {
      tokens.destroy();
      cb(err);
    },
  });
  tokens.on('data', (tok: Token) => {
    try {
      core.consume(tok);
    } catch (err) {
      stage.destroy(err as Error);
      tokens.destroy();
    }
  });
  const malformed = (err: Error): DriftlineError => {
    if (err instanceof DriftlineError) return err;
    return sawInput
      ? new DriftlineError('DL_ERR_BAD_INPUT', `Malformed JSON: ${err.message}`, { cause: err })
      : new DriftlineError('DL_ERR_EMPTY_BODY', 'The JSON body is empty');
  };
  tokens.on('error', (err: Error) => stage.destroy(malformed(err)));
  return stage;
}
