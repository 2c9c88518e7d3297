// Runs inside a worker thread: onnxruntime-node's session.run executes synchronously on the
// calling thread, so inference here keeps the main event loop free for I/O.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { isDriftlineError } from '../errors.js';
import { openSession, runSession, type SessionSpec } from './session.js';
import type { WorkerReply, WorkerRequest } from './inference-protocol.js';

const port = parentPort;
if (port === null) throw new Error('inference-worker must run in a worker thread');
const spec = workerData as SessionSpec;

function fail(err: unknown): { code: string; message: string } {
  return isDriftlineError(err)
    ? { code: err.code, message: err.message }
    : { code: 'DL_ERR_INFERENCE', message: err instanceof Error ? err.message : String(err) };
}

const post = (msg: WorkerReply, transfer?: ArrayBuffer[]): void => port.postMessage(msg, transfer);

try {
  const session = await openSession(spec);
  post({ type: 'ready' });
  port.on('message', (msg: WorkerRequest) => {
    if (msg.type === 'close') {
      void session.release().finally(() => {
        post({ type: 'closed' });
        port.close();
      });
      return;
    }
    const t0 = performance.now();
    runSession(session, spec, msg.data, msg.rows).then(
      (probabilities) => {
        post({ type: 'result', id: msg.id, probabilities, computeMs: performance.now() - t0 }, [probabilities.buffer as ArrayBuffer]);
      },
      (err: unknown) => post({ type: 'error', id: msg.id, error: fail(err) }),
    );
  });
} catch (err) {
  post({ type: 'fatal', error: fail(err) });
}
