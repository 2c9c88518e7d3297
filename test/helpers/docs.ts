// README.md and the pages under docs/: what a user reads. Tests that run or check the commands,
// examples and links shown there find them here, so a section can move from the README to a
// docs/ page (or back) without the test that holds it to the code losing sight of it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './shared.js';

export interface Page {
  /** Relative to the repository, with `/`. */
  file: string;
  text: string;
}

export interface Heading {
  level: number;
  title: string;
  /** Index of the heading's line in the page. */
  line: number;
}

/** README.md, then docs/*.md in name order. */
export function pages(): Page[] {
  const docs = readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs].map((file) => ({ file, text: readPage(file) }));
}

export function readPage(file: string): string {
  return readFileSync(path.join(ROOT, file), 'utf8');
}

/** The page's headings, leaving out `# comment` lines inside fenced code blocks. */
export function headings(text: string): Heading[] {
  const out: Heading[] = [];
  let fenced = false;
  text.split('\n').forEach((l, line) => {
    if (l.startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^(#{1,6}) (.+?)\s*$/.exec(l);
    if (m) out.push({ level: m[1]!.length, title: m[2]!, line });
  });
  return out;
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as `-`, repeats numbered. */
export function anchors(text: string): string[] {
  const seen = new Map<string, number>();
  return headings(text).map(({ title }) => {
    const slug = title
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    return n === 0 ? slug : `${slug}-${n}`;
  });
}

/**
 * The section under the heading `title` (at any level, up to the next heading of its level or
 * above), on whichever of README.md and docs/*.md holds it. Exactly one page must: a section
 * found twice would leave a test checking one copy while readers follow the other.
 */
export function section(title: string): { file: string; body: string } {
  const found: { file: string; body: string }[] = [];
  for (const p of pages()) {
    const hs = headings(p.text);
    hs.forEach((h, i) => {
      if (h.title !== title) return;
      const next = hs.slice(i + 1).find((n) => n.level <= h.level);
      const lines = p.text.split('\n');
      found.push({ file: p.file, body: lines.slice(h.line, next?.line ?? lines.length).join('\n') });
    });
  }
  if (found.length !== 1) {
    throw new Error(
      `"${title}" is a heading in ${found.length === 0 ? 'neither README.md nor docs/*.md' : found.map((f) => f.file).join(', ')}`,
    );
  }
  return found[0]!;
}

/** The shell lines of the ```sh blocks in a section. */
export function shLines(title: string): string[] {
  return [...section(title).body.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n').filter((l) => l.trim() !== ''));
}
