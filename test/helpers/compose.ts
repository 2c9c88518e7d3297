// Just enough YAML to read deploy/compose.yaml (block mappings, lists of scalars, plain and
// quoted scalars, comments) and Compose's `${VAR}` interpolation. Not a general parser: what it
// does not understand (anchors, flow collections, block scalars, lists of mappings, tabs) it
// rejects, so a new construct in the file fails the test loudly instead of being misread.

export type Node = string | null | Node[] | { [key: string]: Node };

interface Line {
  n: number;
  indent: number;
  text: string;
}

/** A plain or quoted scalar; the YAML spellings of null become null. */
function scalar(raw: string, n: number): string | null {
  if (raw.startsWith('"')) {
    if (!/^"(?:[^"\\]|\\.)*"$/.test(raw)) throw new Error(`compose line ${n}: cannot read ${raw}`);
    return JSON.parse(raw) as string;
  }
  if (raw.startsWith("'")) {
    if (!/^'(?:[^']|'')*'$/.test(raw)) throw new Error(`compose line ${n}: cannot read ${raw}`);
    return raw.slice(1, -1).replace(/''/g, "'");
  }
  if (/^[&*!|>[{]/.test(raw))
    throw new Error(`compose line ${n}: ${raw[0]} (anchors, tags, block scalars, flow collections) is not understood here`);
  // YAML reads `a: b` inside a plain scalar as a mapping: such a value must be quoted.
  if (/: |:$/.test(raw)) throw new Error(`compose line ${n}: quote ${raw} (a plain scalar cannot hold ": ")`);
  return raw === '' || raw === '~' || raw === 'null' ? null : raw;
}

/** Drops a comment: `#` at the start, or after a space outside quotes. */
function uncomment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote !== '') {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || line[i - 1] === ' ')) return line.slice(0, i);
  }
  return line;
}

export function parseCompose(text: string): Node {
  const lines: Line[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.includes('\t')) throw new Error(`compose line ${i + 1}: tabs are not YAML indentation`);
    const body = uncomment(raw).trimEnd();
    if (body.trim() === '') return;
    lines.push({ n: i + 1, indent: body.length - body.trimStart().length, text: body.trim() });
  });
  let at = 0;
  const block = (indent: number): Node => {
    const first = lines[at]!;
    if (first.text.startsWith('- ') || first.text === '-') {
      const list: Node[] = [];
      while (at < lines.length && lines[at]!.indent === indent && lines[at]!.text.startsWith('-')) {
        const l = lines[at++]!;
        const item = l.text.slice(1).trim();
        if (/^[^"'\s][^:]*:(\s|$)/.test(item)) throw new Error(`compose line ${l.n}: lists of mappings are not understood here`);
        list.push(scalar(item, l.n));
      }
      return list;
    }
    const map: Record<string, Node> = {};
    while (at < lines.length && lines[at]!.indent === indent) {
      const l = lines[at++]!;
      const m = /^([^\s:"'][^:]*?|"[^"]*"|'[^']*'):(?:\s+(.*))?$/.exec(l.text);
      if (m === null) throw new Error(`compose line ${l.n}: expected key: value, got ${l.text}`);
      const key = scalar(m[1]!, l.n) ?? '';
      if (key in map) throw new Error(`compose line ${l.n}: ${key} given twice`);
      if (m[2] !== undefined && m[2] !== '') map[key] = scalar(m[2], l.n);
      else if (at < lines.length && lines[at]!.indent > indent) map[key] = block(lines[at]!.indent);
      // A list may sit at its key's own indentation.
      else if (at < lines.length && lines[at]!.indent === indent && lines[at]!.text.startsWith('-')) map[key] = block(indent);
      else map[key] = null;
    }
    if (at < lines.length && lines[at]!.indent > indent) throw new Error(`compose line ${lines[at]!.n}: unexpected indentation`);
    return map;
  };
  if (lines.length === 0) return null;
  const doc = block(lines[0]!.indent);
  if (at !== lines.length) throw new Error(`compose line ${lines[at]!.n}: unexpected indentation`);
  return doc;
}

/** Compose's interpolation: `${VAR}`, `${VAR:-default}`, `${VAR:?message}` (an error when unset or empty). */
export function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (op === '?') throw new Error(`${name}: ${arg}`);
    return op === '-' ? (arg ?? '') : '';
  });
}

/** The names `${…}` refers to in a value. */
export function variablesIn(value: string): string[] {
  return [...value.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
}
