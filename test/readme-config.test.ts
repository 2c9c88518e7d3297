import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configSchema } from '../src/config.js';
import { ROOT } from './helpers/shared.js';

t.test('every configuration key is in the README table, and the table names no unknown key', async (t) => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
  const keys = Object.keys(configSchema.shape);
  for (const k of keys) t.match(section, new RegExp(`\\| \`${k}\` \\|`), `${k} is documented`);
  const listed = [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]!);
  t.same(
    listed.filter((k) => !keys.includes(k)),
    [],
  );
});
