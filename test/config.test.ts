import t from 'tap';
import path from 'node:path';
import { parseConfig, PACKAGE_ROOT } from '../src/config.js';

t.test('defaults', async (t) => {
  const c = parseConfig({});
  t.equal(c.PORT, 8000);
  t.equal(c.HOST, '127.0.0.1');
  t.equal(c.WINDOW_ROWS, 5000);
  t.equal(c.LOG_LEVEL, 'info');
  t.equal(c.ALLOW_UWS_FALLBACK, false);
  t.equal(c.LOG_RETENTION_ROWS, 1_000_000);
  t.equal(c.DRIFT_PUSH_MS, 250);
  t.equal(c.DRIFT_HISTORY_MS, 10_000);
  t.equal(c.MODEL_DIR, path.join(PACKAGE_ROOT, 'models', 'credit-default', 'v1'));
  t.equal(c.DATA_DIR, path.join(PACKAGE_ROOT, 'data'));
  t.equal(c.API_KEY, undefined);
  t.ok(Object.isFrozen(c), 'config is frozen');
});

t.test('values are coerced from strings; empty means unset', async (t) => {
  const c = parseConfig({
    PORT: '7860',
    HOST: '0.0.0.0',
    WINDOW_ROWS: '100000',
    ALLOW_UWS_FALLBACK: 'yes',
    LOG_LEVEL: 'debug',
    API_KEY: '',
    MODEL_DIR: 'x/y',
  });
  t.equal(c.PORT, 7860);
  t.equal(c.HOST, '0.0.0.0');
  t.equal(c.WINDOW_ROWS, 100_000);
  t.equal(c.ALLOW_UWS_FALLBACK, true);
  t.equal(c.LOG_LEVEL, 'debug');
  t.equal(c.API_KEY, undefined);
  t.equal(c.MODEL_DIR, path.resolve('x/y'), 'directories are resolved');
});

const bad: [string, string, RegExp][] = [
  ['PORT', 'eighty', /PORT="eighty": expected an integer/],
  ['PORT', '70000', /PORT="70000": must be ≤ 65535/],
  ['PORT', '-1', /PORT="-1": must be ≥ 0/],
  ['PORT', '80.5', /PORT="80.5": expected an integer/],
  ['WINDOW_ROWS', '0', /WINDOW_ROWS="0": must be ≥ 1/],
  ['WINDOW_ROWS', 'lots', /WINDOW_ROWS="lots"/],
  ['LOG_LEVEL', 'loud', /LOG_LEVEL="loud"/],
  ['ALLOW_UWS_FALLBACK', 'maybe', /ALLOW_UWS_FALLBACK="maybe": expected one of/],
  ['DRIFT_SHARE_THRESHOLD', '1.5', /DRIFT_SHARE_THRESHOLD="1.5": must be ≤ 1/],
  ['LOG_RETENTION_ROWS', '0', /LOG_RETENTION_ROWS="0"/],
  ['DRIFT_PUSH_MS', '1', /DRIFT_PUSH_MS="1": must be ≥ 10/],
  ['SLACK_WEBHOOK_URL', 'not a url', /SLACK_WEBHOOK_URL=<redacted>: expected a URL/],
  ['SMTP_URL', 'http://mail', /SMTP_URL=<redacted>: expected a URL/],
];
for (const [key, value, re] of bad) {
  t.test(`bad ${key}=${value} stops start-up`, async (t) => {
    t.throws(() => parseConfig({ [key]: value }), { code: 'DL_ERR_CONFIG', message: re });
  });
}

t.test('every problem is listed at once, and secrets are not echoed', async (t) => {
  try {
    parseConfig({ PORT: 'x', WINDOW_ROWS: '-5', LOG_LEVEL: 'nope', SMTP_URL: 'ftp://user:hunter2@mail' });
    t.fail('should throw');
  } catch (err) {
    const e = err as Error & { details: { problems: string[] } };
    t.equal(e.details.problems.length, 4);
    for (const k of ['PORT', 'WINDOW_ROWS', 'LOG_LEVEL', 'SMTP_URL']) t.match(e.message, k);
    t.notMatch(e.message, 'hunter2');
  }
});

t.test('receive rules: uWS-equivalent defaults (16 KiB/s over 10 s); 0 turns the rate rule off', async (t) => {
  const c = parseConfig({});
  t.equal(c.REQUEST_MIN_RECEIVE_RATE, 16 * 1024);
  t.equal(c.REQUEST_RECEIVE_WINDOW_MS, 10_000);
  t.equal(parseConfig({ REQUEST_MIN_RECEIVE_RATE: '0' }).REQUEST_MIN_RECEIVE_RATE, 0);
  t.throws(() => parseConfig({ REQUEST_RECEIVE_WINDOW_MS: '10' }), {
    code: 'DL_ERR_CONFIG',
    message: /REQUEST_RECEIVE_WINDOW_MS="10": must be ≥ 100/,
  });
});
