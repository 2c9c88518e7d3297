// Regression: the README had grown to 47 KB (the trainer's ablation table, the benchmark
// narrative, every limit, the drift internals) and never mentioned docs/architecture.md, so a
// newcomer scrolled past all of it to find the API. The README keeps what a user needs in the
// first ten minutes and links a docs/ page for each of the rest; links into the moved text must
// still land.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { anchors, headings, pages, readPage } from './helpers/docs.js';
import { ROOT } from './helpers/shared.js';

const README = readPage('README.md');

t.test('the README is under 16 KB', async (t) => {
  const bytes = Buffer.byteLength(README, 'utf8');
  t.ok(bytes < 16 * 1024, `README.md is ${bytes} bytes`);
});

t.test('the README keeps the first ten minutes: running it, scoring, the routes, the dashboard, the settings', async (t) => {
  const titles = headings(README)
    .filter((h) => h.level === 2)
    .map((h) => h.title);
  for (const s of ['Run it', 'Scoring over HTTP', 'Dashboard', 'Command line', 'Configuration']) t.ok(titles.includes(s), `## ${s}`);
  t.match(README, /^npm ci && npm start$/m, 'the two commands');
  t.match(README, /^\| `POST \/predict` \|/m, 'the route table');
});

t.test('the README links every docs/ page', async (t) => {
  const docs = pages().filter((p) => p.file.startsWith('docs/'));
  t.ok(docs.length >= 2, `${docs.length} pages under docs/`);
  for (const { file } of docs) t.ok(README.includes(`](${file})`), `README.md links ${file}`);
});

/** Markdown links `[text](target)` outside fenced code and inline code spans. */
function links(text: string): string[] {
  const prose = text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

t.test('every relative link in README.md, SECURITY.md and docs/*.md reaches a file, and its anchor a heading there', async (t) => {
  const files = [...pages().map((p) => p.file), 'SECURITY.md'];
  let checked = 0;
  for (const file of files) {
    for (const target of links(readPage(file))) {
      if (/^[a-z]+:/i.test(target)) continue;
      const [rel, anchor] = target.split('#') as [string, string | undefined];
      const to = rel === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), rel));
      checked++;
      if (!existsSync(path.join(ROOT, to))) {
        t.fail(`${file}: ${target} (${to} does not exist)`);
        continue;
      }
      if (anchor !== undefined) {
        const known = to.endsWith('.md') && statSync(path.join(ROOT, to)).isFile() ? anchors(readPage(to)) : [];
        t.ok(known.includes(anchor), `${file}: ${target} (a heading of ${to})`);
      }
    }
  }
  t.ok(checked >= 10, `${checked} links checked`);
});
