// Regression: the project had no linter and no formatter. startService grew to 248 lines and
// no check said so; an unused import or a browser name misspelt in static/ (which nothing
// type-checks) reached review or the browser. eslint.config.js now holds the rules, among them
// the "no function in src/server or src/monitor longer than 80 lines", and
// `npm run lint` (run by .ci/run) applies them and Prettier's check.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import t from 'tap';
import { ROOT } from './helpers/shared.js';

const eslint = new ESLint({ cwd: ROOT });

/** The rule ids ESLint reports for `code` as if it were the file at `file` (repo-relative). */
async function findings(code: string, file: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return (result?.messages ?? []).map((m) => m.ruleId ?? `fatal: ${m.message}`);
}

/** A function of `lines` lines in all (signature and closing brace included). */
function longFunction(lines: number): string {
  const body = Array.from({ length: lines - 4 }, (_, i) => `  total += ${i};`);
  return ['export function long(): number {', '  let total = 0;', ...body, '  return total;', '}', ''].join('\n');
}

t.test('a function over 80 lines fails in src/server and src/monitor, and only there', async (t) => {
  t.same(await findings(longFunction(80), 'src/server/routes/x.ts'), [], '80 lines in src/server pass');
  t.same(await findings(longFunction(81), 'src/server/routes/x.ts'), ['max-lines-per-function'], '81 lines in src/server fail');
  t.same(await findings(longFunction(81), 'src/monitor/x.ts'), ['max-lines-per-function'], '81 lines in src/monitor fail');
  t.same(await findings(longFunction(81), 'src/drift/x.ts'), [], 'other rooms are not held to it');
});

t.test('TypeScript is read by typescript-eslint, with its recommended rules', async (t) => {
  const code = "import { readFileSync } from 'node:fs';\nexport const n: number = 1;\n";
  t.same(await findings(code, 'src/x.ts'), ['@typescript-eslint/no-unused-vars'], 'an unused import is found');
  t.same(
    await findings('export const f = (x: any): unknown => x;\n', 'src/x.ts'),
    ['@typescript-eslint/no-explicit-any'],
    'no `any` in src/',
  );
});

t.test('static/ is linted as browser modules: browser names pass, a misspelt one does not', async (t) => {
  const ok = "import { bus } from './bus.js';\nexport const el = document.querySelector('main');\nfetch('/health').then(() => bus);\n";
  t.same(await findings(ok, 'static/js/x.js'), []);
  t.same(await findings('export const el = documnet.body;\n', 'static/js/x.js'), ['no-undef']);
});

t.test('npm run lint runs ESLint and Prettier, and CI fails when it fails', async (t) => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  t.match(pkg.scripts.lint, /\beslint\b/, 'lint runs eslint');
  t.match(pkg.scripts.lint, /\bprettier --check\b/, 'lint runs prettier --check');
  t.match(pkg.scripts.format, /\bprettier --write\b/, 'format rewrites');
  const ci = readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
  t.match(ci, /^npm run lint \|\| \{[^}]*lint_failed=1; \}$/m, '.ci/run counts a lint failure');
  t.match(ci, /^fail=\$\(\(fail \+ lint_failed\)\)$/m, 'and adds it to the failures it reports');
});
