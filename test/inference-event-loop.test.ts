import t from 'tap';
import { performance } from 'node:perf_hooks';
import { InferenceEngine, parseModelCard, sessionSpec } from '../src/model/index.js';
import { sharedFile } from './helpers/shared.js';

const hgb = sharedFile('models/sklearn_hgb.onnx');

t.test('a long inference does not block the event loop', { skip: hgb.skip }, async (t) => {
  const card = parseModelCard({
    name: 'x',
    version: '0',
    input_name: 'input',
    features: Array.from({ length: 8 }, (_, i) => ({ name: `f${i}` })),
    output: { name: 'probabilities', index: 1 },
  });
  const engine = await InferenceEngine.start(sessionSpec(card, hgb.path, 1));
  t.teardown(() => engine.close());

  const rows = 1_500_000;
  const data = new Float32Array(rows * 8);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 100_000;

  let ticks = 0;
  let worstGap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    worstGap = Math.max(worstGap, now - last);
    last = now;
    ticks++;
  }, 5);
  const t0 = performance.now();
  const { probabilities, computeMs } = await engine.run(data, rows);
  const elapsed = performance.now() - t0;
  clearInterval(timer);

  t.equal(probabilities.length, rows);
  t.ok(computeMs > 100, `the batch ran long enough to matter (${computeMs.toFixed(0)} ms in session.run)`);
  // If session.run held the main thread, the timer could not fire at all during the batch.
  t.ok(ticks >= Math.floor(elapsed / 5 / 4), `timer fired ${ticks} times in ${elapsed.toFixed(0)} ms`);
  t.ok(worstGap < computeMs / 2, `longest gap between ticks ${worstGap.toFixed(0)} ms, batch ${computeMs.toFixed(0)} ms`);
});
