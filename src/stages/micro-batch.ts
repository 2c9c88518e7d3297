import { Transform, type TransformCallback } from 'node:stream';
import { BlockBuilder } from './block.js';
import { CHUNKS_BUFFERED, type Batch, type RowBlock, type Validated } from './types.js';

export interface MicroBatchOptions {
  nFeatures: number;
  /** Items (valid or not) per batch at most. */
  maxRows: number;
  /** Longest a row waits for its batch to fill, once the batch has its first row. */
  maxWaitMs: number;
}

/** Pure core: regroups validated blocks, in input order, into batches of at most maxRows. */
export class Batcher {
  private current: BlockBuilder | undefined;
  private seq = 0;
  private readonly opts: { cells: boolean; ids: boolean } = { cells: false, ids: false };

  constructor(
    private readonly nFeatures: number,
    private readonly maxRows: number,
  ) {}

  get pending(): number {
    return this.current?.count ?? 0;
  }

  /** Adds a block; returns the batches it completed. */
  add(block: RowBlock): Batch[] {
    this.opts.cells = block.cells !== null;
    this.opts.ids = block.ids !== null;
    const done: Batch[] = [];
    let r = 0;
    let e = 0;
    for (let i = 0; i < block.count; i++) {
      const b = (this.current ??= new BlockBuilder(this.nFeatures, this.maxRows, this.opts));
      if (block.valid[i] === 1) b.copyRow(block, r++);
      else b.reject(block.errors[e++]!);
      if (b.full) done.push(this.flush()!);
    }
    return done;
  }

  /** Closes the current batch, if it holds anything. */
  flush(): Batch | undefined {
    const b = this.current;
    this.current = undefined;
    if (b === undefined || b.count === 0) return undefined;
    return { kind: 'batch', seq: this.seq++, ...b.build() };
  }
}

/** Header, blocks … → Header, Batch …: N rows or T ms, whichever comes first. */
export function createMicroBatch(opts: MicroBatchOptions): Transform {
  const batcher = new Batcher(opts.nFeatures, opts.maxRows);
  let timer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const stage: Transform = new Transform({
    objectMode: true,
    highWaterMark: CHUNKS_BUFFERED,
    transform(rec: Validated, _enc, cb: TransformCallback) {
      if (rec.kind === 'header') {
        stop();
        const pending = batcher.flush();
        if (pending !== undefined) stage.push(pending);
        return cb(null, rec);
      }
      const full = batcher.add(rec);
      if (full.length > 0) stop();
      for (const b of full) stage.push(b);
      if (timer === undefined && batcher.pending > 0) {
        timer = setTimeout(() => {
          timer = undefined;
          const b = batcher.flush();
          if (b !== undefined) stage.push(b);
        }, opts.maxWaitMs);
      }
      cb();
    },
    flush(cb: TransformCallback) {
      stop();
      cb(null, batcher.flush());
    },
    destroy(err, cb) {
      stop();
      cb(err);
    },
  });
  return stage;
}
