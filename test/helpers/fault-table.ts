// The fault matrix as a Markdown table (README-ready), one line per scenario.
import type { FaultRow } from './fault-scenarios.js';

const HEADER = [
  'scenario',
  'requests',
  'failed requests',
  'time to converge',
  'containers left over',
  'outcome',
];

export function formatRows(rows: FaultRow[]): string {
  const cells = rows.map((r) => [
    r.scenario,
    String(r.requests),
    r.note && r.failed > 0 ? `${r.failed} (${r.note})` : String(r.failed),
    `${(r.convergeMs / 1000).toFixed(1)} s`,
    String(r.leftover),
    r.outcome,
  ]);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(HEADER), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
