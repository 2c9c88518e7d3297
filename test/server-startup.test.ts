import t from 'tap';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startService } from '../src/server/index.js';
import { BUNDLED_MODEL } from './helpers/server.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';

function modelCopy(edit: (dir: string) => void): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dl-model-'));
  for (const f of ['model.onnx', 'card.json', 'reference.json']) copyFileSync(path.join(BUNDLED_MODEL, f), path.join(dir, f));
  edit(dir);
  return dir;
}
const start = (env: Record<string, string>) =>
  startService(
    parseConfig({ PORT: '0', DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'dl-data-')), LOG_LEVEL: 'silent', ...env }),
    createLogger('silent', 2),
  );

const handles = (): string[] =>
  (process as unknown as { _getActiveHandles(): { constructor: { name: string } }[] })
    ._getActiveHandles()
    .map((h) => h.constructor.name)
    .sort();

t.test('a start-up that fails closes what it opened, so the process can exit', { skip }, async (t) => {
  const before = handles();
  const badRef = modelCopy((d) => {
    const ref = JSON.parse(readFileSync(path.join(d, 'reference.json'), 'utf8')) as { features: { name: string }[] };
    ref.features[1]!.name = 'not_age';
    writeFileSync(path.join(d, 'reference.json'), JSON.stringify(ref));
  });
  await t.rejects(start({ MODEL_DIR: badRef }), { code: 'DL_ERR_REFERENCE' });
  await t.rejects(start({ ALERT_RULES: '{"rules":[{"kind":"bogus"}]}' }), { code: 'DL_ERR_CONFIG' });
  await t.rejects(start({ DRIFT_OVERRIDES: '{"age":{"test":"nope"}}' }), { code: 'DL_ERR_DRIFT_UNKNOWN_TEST' });
  const corrupt = modelCopy((d) => writeFileSync(path.join(d, 'model.onnx'), 'garbage'));
  await t.rejects(start({ MODEL_DIR: corrupt }), { code: 'DL_ERR_MODEL_LOAD' });
  // Nothing may be left running: an open worker or socket would keep this process alive.
  await new Promise((r) => setTimeout(r, 200));
  const left = [...handles()];
  for (const h of before) left.splice(left.indexOf(h), left.includes(h) ? 1 : 0);
  t.same(left, [], 'no new handle (worker port, socket, timer) is left open');
});
