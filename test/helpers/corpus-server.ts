// One service with the corpus limits (CORPUS_ENV) per hostile-input test file, started before
// the file's first test and closed after its last, so that each case also checks the server is
// left settled for the next.
import { existsSync } from 'node:fs';
import t from 'tap';
import { CORPUS_ENV } from '../corpus/generated.js';
import { BUNDLED_MODEL, startTestServer, type TestServer } from './server.js';

export const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';

/** Registers the server's start and close on the file's root test; call the result inside a test. */
export function corpusServer(): () => TestServer {
  let srv: TestServer | undefined;
  t.before(async () => {
    if (skip === false) srv = await startTestServer({ ...CORPUS_ENV });
  });
  t.teardown(async () => {
    await srv?.close();
  });
  return () => {
    if (srv === undefined) throw new Error('the corpus server has not started');
    return srv;
  };
}
