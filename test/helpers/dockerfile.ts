// Just enough of a Dockerfile parser and .dockerignore matcher to check the project's own files
// and replay their stages outside Docker. Not a general implementation: what it does not
// understand it rejects, so a new construct in the Dockerfile fails the test loudly.

export interface Instruction {
  op: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

/** Instructions (continuations joined, comments dropped), grouped by FROM. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    // A trailing backslash continues the instruction; comment lines inside it are dropped.
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      if (/^\s*#/.test(lines[i]!)) continue;
      line = `${line.replace(/\\\s*$/, ' ')}${lines[i]!.trim()}`;
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (m === null) throw new Error(`Dockerfile line ${start}: cannot read ${JSON.stringify(line)}`);
    const op = m[1]!.toUpperCase();
    const args = m[2]!.trim().replace(/\s+/g, ' ');
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (f === null) throw new Error(`Dockerfile line ${start}: FROM ${args}`);
      stages.push({ image: f[1]!, name: f[2] ?? String(stages.length), instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) throw new Error(`Dockerfile line ${start}: ${op} before FROM`);
    stage.instructions.push({ op, args, line: start });
  }
  return stages;
}

export function all(stage: Stage, op: string): Instruction[] {
  return stage.instructions.filter((i) => i.op === op);
}

/** `--flag=value` options at the start of an instruction, and what follows them. */
export function flags(args: string): { flags: Record<string, string>; rest: string } {
  const out: Record<string, string> = {};
  let rest = args;
  for (let m = /^--([a-z-]+)=(\S+)\s*/.exec(rest); m !== null; m = /^--([a-z-]+)=(\S+)\s*/.exec(rest)) {
    out[m[1]!] = m[2]!;
    rest = rest.slice(m[0].length);
  }
  return { flags: out, rest };
}

export interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
  line: number;
}

export function copies(stage: Stage): Copy[] {
  return all(stage, 'COPY').map((i) => {
    const { flags: f, rest } = flags(i.args);
    if (rest.startsWith('[')) throw new Error(`Dockerfile line ${i.line}: JSON-form COPY is not understood by this test`);
    const parts = rest.split(' ');
    return { from: f.from, sources: parts.slice(0, -1), dest: parts.at(-1)!, line: i.line };
  });
}

/** `ENV A=1 B=2` (the only form used here) → entries. */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of all(stage, 'ENV')) {
    for (const kv of i.args.split(' ')) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=([^"'\s]*)$/.exec(kv);
      if (m === null) throw new Error(`Dockerfile line ${i.line}: ENV ${kv} is not KEY=value`);
      env[m[1]!] = m[2]!;
    }
  }
  return env;
}

/** The JSON (exec) form of CMD, or of HEALTHCHECK … CMD. */
export function execForm(args: string): string[] {
  const json = args.slice(args.indexOf('['));
  const v = JSON.parse(json) as unknown;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`not an exec-form array: ${args}`);
  return v as string[];
}

/** Glob → RegExp with Docker's rules: `*` and `?` stay within a path segment, `**` spans them. */
function globRe(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * A .dockerignore as a predicate over context-relative paths. The last matching rule wins; a
 * rule that matches a directory excludes what is inside it.
 */
export function dockerignore(text: string): (file: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '');
      return { negate, re: globRe(pattern) };
    });
  return (file) => {
    const parts = file.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) excluded = !r.negate;
    return excluded;
  };
}

/** The YAML front matter at the very top of a Markdown file, as flat key → string. */
export function frontMatter(markdown: string): Record<string, string> | null {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(markdown);
  if (m === null) return null;
  const out: Record<string, string> = {};
  for (const line of m[1]!.split('\n')) {
    const kv = /^([A-Za-z_]+):\s*(.*)$/.exec(line);
    if (kv !== null) out[kv[1]!] = kv[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  return out;
}
