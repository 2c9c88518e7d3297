import type { Worker } from 'node:worker_threads';
import { startWorker } from '../worker.js';
import { DriftlineError, ERROR_CODES, type ErrorCode } from '../errors.js';
import type { SessionSpec } from './session.js';
import type { WorkerReply, WorkerRequest } from './inference-protocol.js';

export interface InferenceResult {
  probabilities: Float32Array;
  /** Time the worker spent in session.run. */
  computeMs: number;
}

interface Pending {
  resolve: (r: InferenceResult) => void;
  reject: (e: Error) => void;
}

function asError(e: { code: string; message: string }): DriftlineError {
  const code = (e.code in ERROR_CODES ? e.code : 'DL_ERR_INFERENCE') as ErrorCode;
  return new DriftlineError(code, e.message);
}

/**
 * The model, running in a worker thread. Batches are handed over by transferring their
 * buffer (no copy): after `run`, the caller's Float32Array is detached.
 */
export class InferenceEngine {
  readonly spec: SessionSpec;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private readonly inflight = new Set<Promise<InferenceResult>>();
  private nextId = 1;
  private failure: DriftlineError | undefined;
  private closing: Promise<void> | undefined;

  private constructor(worker: Worker, spec: SessionSpec) {
    this.worker = worker;
    this.spec = spec;
    worker.on('message', (msg: WorkerReply) => this.onMessage(msg));
    worker.on('error', (err) =>
      this.die(new DriftlineError('DL_ERR_INFERENCE', `Inference worker crashed: ${err.message}`, { cause: err })),
    );
    worker.on('exit', (code) => {
      if (this.closing === undefined) this.die(new DriftlineError('DL_ERR_INFERENCE', `Inference worker exited (code ${code})`));
    });
  }

  /** Starts the worker and resolves once the model has loaded and passed its checks. */
  static async start(spec: SessionSpec): Promise<InferenceEngine> {
    const worker = startWorker(import.meta.url, 'inference-worker', { workerData: spec, stdout: false, stderr: false });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (msg: WorkerReply): void => {
        cleanup();
        if (msg.type === 'ready') resolve();
        else if (msg.type === 'fatal') {
          void worker.terminate();
          reject(asError(msg.error));
        }
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(new DriftlineError('DL_ERR_MODEL_LOAD', `Inference worker failed to start: ${err.message}`, { cause: err }));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
    });
    return new InferenceEngine(worker, spec);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Predicts P(class 1) for `rows` rows of `data` ([rows × nFeatures], row-major). */
  run(data: Float32Array, rows: number): Promise<InferenceResult> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closing !== undefined) return Promise.reject(new DriftlineError('DL_ERR_INFERENCE', 'Inference engine is closed'));
    if (data.length < rows * this.spec.nFeatures) {
      return Promise.reject(
        new DriftlineError(
          'DL_ERR_INFERENCE',
          `Batch holds ${data.length} values, fewer than ${rows} rows × ${this.spec.nFeatures} features`,
        ),
      );
    }
    const id = this.nextId++;
    const result = new Promise<InferenceResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const msg: WorkerRequest = { type: 'run', id, data, rows };
      // A view over part of a larger buffer can't be transferred alone: copy that rare case.
      const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
      const payload = whole ? msg : { ...msg, data: data.slice() };
      this.worker.postMessage(payload, [payload.data.buffer as ArrayBuffer]);
    });
    this.inflight.add(result);
    const forget = (): void => void this.inflight.delete(result);
    result.then(forget, forget);
    return result;
  }

  /** Waits for batches already handed over, then releases the session and stops the worker. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled(this.inflight);
      if (this.failure === undefined) {
        const closed = new Promise<void>((resolve) => {
          const onMsg = (m: WorkerReply): void => {
            if (m.type === 'closed') resolve();
          };
          this.worker.on('message', onMsg);
          this.worker.once('exit', () => resolve());
        });
        this.worker.postMessage({ type: 'close' } satisfies WorkerRequest);
        await closed;
      }
      await this.worker.terminate();
    })();
    return this.closing;
  }

  private onMessage(msg: WorkerReply): void {
    if (msg.type !== 'result' && msg.type !== 'error') return;
    const p = this.pending.get(msg.id);
    if (p === undefined) return;
    this.pending.delete(msg.id);
    if (msg.type === 'result') p.resolve({ probabilities: msg.probabilities, computeMs: msg.computeMs });
    else p.reject(asError(msg.error));
  }

  private die(err: DriftlineError): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
