import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DriftlineError, ERROR_CODES, ROW_ERROR_CODES, toDriftlineError } from '../src/errors.js';
import { ROOT } from './helpers/shared.js';

t.test('every error code is documented with its status in docs/errors.md', async (t) => {
  const doc = readFileSync(path.join(ROOT, 'docs', 'errors.md'), 'utf8');
  for (const [code, { status }] of Object.entries(ERROR_CODES)) {
    t.match(doc, new RegExp(`\\| \`${code}\` \\| ${status} \\|`), `${code} (${status}) is in docs/errors.md`);
  }
  const documented = [...doc.matchAll(/\| `(DL_ERR_[A-Z_]+)` \|/g)].map((m) => m[1]);
  t.same(
    documented.filter((c) => !(c! in ERROR_CODES) && !(c! in ROW_ERROR_CODES)),
    [],
    'docs list no code that does not exist',
  );
});

t.test('every row error code is documented in docs/errors.md, apart from the request codes', async (t) => {
  const doc = readFileSync(path.join(ROOT, 'docs', 'errors.md'), 'utf8');
  for (const code of Object.keys(ROW_ERROR_CODES)) {
    t.match(doc, new RegExp(`\\| \`${code}\` \\| row \\|`), `${code} is in the row errors table`);
    t.notOk(code in ERROR_CODES, `${code} is not also a request code`);
  }
});

t.test('typed errors carry code, status and a detail body', async (t) => {
  const e = new DriftlineError('DL_ERR_SCHEMA_MISSING_COLUMNS', 'Invalid schema. Missing required columns: [age]', {
    details: { missing: ['age'] },
  });
  t.equal(e.status, 400);
  t.same(e.toJSON(), {
    detail: 'Invalid schema. Missing required columns: [age]',
    code: 'DL_ERR_SCHEMA_MISSING_COLUMNS',
    missing: ['age'],
  });
  t.equal(toDriftlineError(e), e);
  const w = toDriftlineError(new Error('boom'));
  t.equal(w.code, 'DL_ERR_INTERNAL');
  t.equal(w.status, 500);
});
