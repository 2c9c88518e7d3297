// Helpers for browser tests that build CSVs from generated rows (src/sim draws the rows).

export function toCsv(header: readonly string[], rows: readonly (readonly (number | string)[])[]): string {
  return `${header.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
}

/** The same rows with some columns moved: `shift` adds, `scale` multiplies (by column name). */
export function shifted(
  header: readonly string[],
  rows: readonly number[][],
  change: { shift?: Record<string, number>; scale?: Record<string, number> },
): number[][] {
  const idx = (n: string): number => {
    const i = header.indexOf(n);
    if (i === -1) throw new Error(`no column ${n}`);
    return i;
  };
  const ops = [
    ...Object.entries(change.shift ?? {}).map(([n, d]) => [idx(n), (x: number) => x + d] as const),
    ...Object.entries(change.scale ?? {}).map(([n, k]) => [idx(n), (x: number) => Math.round(x * k * 100) / 100] as const),
  ];
  return rows.map((row) => {
    const copy = row.slice();
    for (const [i, f] of ops) copy[i] = f(copy[i]!);
    return copy;
  });
}
