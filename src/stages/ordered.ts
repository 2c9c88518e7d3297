import { Transform, type TransformCallback } from 'node:stream';
import { CHUNKS_BUFFERED } from './types.js';

interface Entry<T> {
  item: T;
  settled: boolean;
  error: unknown;
}

/**
 * A Transform that runs an async step on up to `concurrency` items at once and emits them in
 * input order. Used where a stage waits on another thread (the model, the log writer): the next
 * batch can be handed over while the previous one is still being worked on.
 *
 * Backpressure is handled here rather than by Transform: results are pushed after the
 * transform callback has returned, and Transform only holds back its writer when a push
 * happened inside the callback. So finished items wait in the queue while the reader is full,
 * and no new item is accepted until they have gone.
 */
export function createOrderedStage<T>(step: (item: T) => Promise<void> | void, concurrency: number): Transform {
  const queue: Entry<T>[] = [];
  let accept: TransformCallback | undefined;
  let finish: TransformCallback | undefined;
  let readerWants = true;

  const pump = (): void => {
    while (readerWants && queue.length > 0 && queue[0]!.settled) {
      const head = queue.shift()!;
      if (head.error !== undefined) {
        stage.destroy(head.error instanceof Error ? head.error : new Error(String(head.error)));
        return;
      }
      readerWants = stage.push(head.item);
    }
    if (accept !== undefined && queue.length < concurrency && readerWants) {
      const cb = accept;
      accept = undefined;
      cb();
    }
    if (finish !== undefined && queue.length === 0) {
      const cb = finish;
      finish = undefined;
      cb();
    }
  };

  const stage: Transform = new Transform({
    objectMode: true,
    highWaterMark: CHUNKS_BUFFERED,
    transform(item: T, _enc, cb: TransformCallback) {
      const entry: Entry<T> = { item, settled: false, error: undefined };
      queue.push(entry);
      let result: Promise<void> | void;
      try {
        result = step(item);
      } catch (err) {
        result = Promise.reject(err);
      }
      if (result === undefined) {
        entry.settled = true;
      } else {
        result.then(
          () => {
            entry.settled = true;
            pump();
          },
          (err: unknown) => {
            entry.settled = true;
            entry.error = err ?? new Error('stage failed');
            pump();
          },
        );
      }
      accept = cb;
      pump();
    },
    flush(cb: TransformCallback) {
      finish = cb;
      pump();
    },
  });
  const read = stage._read.bind(stage);
  stage._read = (size: number): void => {
    readerWants = true;
    pump();
    read(size);
  };
  return stage;
}
