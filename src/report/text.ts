// The impact report as plain text: what `hotswap report` prints and the HTML page's header.
import type { ImpactReport } from './build.js';
import { watchLine } from './watch.js';

export function formatMs(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const a = Math.abs(ms);
  if (a < 1000) return `${sign}${Math.round(a)}ms`;
  if (a < 120_000) return `${sign}${(a / 1000).toFixed(1)}s`;
  return `${sign}${Math.floor(a / 60_000)}m${Math.round((a % 60_000) / 1000)}s`;
}

export function summaryLines(report: ImpactReport): string[] {
  const r = report.rollout;
  const lines = [
    `rollout #${r.id} of ${r.service}: ${r.kind} r${r.fromRevision ?? '-'} → r${r.toRevision} (${r.strategy}), ${r.status}${r.reason ? `: ${r.reason}` : ''}`,
    `started ${r.startedAt}; update took ${report.durationMs === null ? 'still running' : formatMs(report.durationMs)}`,
  ];
  if (report.rollback) {
    const rb = report.rollback;
    lines.push(
      `rolled back ${formatMs(rb.detectedAfterMs)} after the start (${rb.reason}); time to rollback ${rb.tookMs === null ? 'unfinished' : formatMs(rb.tookMs)}`,
    );
  }
  lines.push(`long connections cut: ${report.cutConnections}`);
  const verdicts = report.verdicts;
  if (verdicts.length) {
    const failed = verdicts.filter((v) => v.result === 'fail').length;
    lines.push(`analysis: ${verdicts.length} verdict(s), ${failed} failed`);
  }
  if (report.watch) lines.push(watchLine(report.watch, formatMs));
  if (!report.sampled)
    lines.push('no traffic samples: this rollout ran before reports were recorded');
  else if (!report.complete) lines.push('the after window is still being sampled');
  return lines;
}

/** Summary, the per-revision windows, steps and verdicts, as aligned text. */
export function formatReport(report: ImpactReport): string {
  const out = [...summaryLines(report), ''];
  out.push(
    ...table(
      ['WINDOW', 'REV', 'LENGTH', 'REQUESTS', 'FAILED', 'ERR%', 'P50', 'P95', 'P99'],
      report.phases.map((p) => [
        p.phase,
        `r${p.revision}`,
        formatMs(p.spanMs),
        String(p.requests),
        String(p.failed),
        (p.errorRate * 100).toFixed(3),
        ms(p.p50),
        ms(p.p95),
        ms(p.p99),
      ]),
    ),
    '',
  );
  if (report.instances.length)
    out.push(
      ...table(
        ['INSTANCE', 'REV', 'SAMPLES', 'CPU MEAN%', 'CPU MAX%', 'MEM MAX MiB'],
        report.instances.map((i) => [
          i.instance.slice(0, 12),
          `r${i.revision}`,
          String(i.samples),
          num(i.cpuMeanPct),
          num(i.cpuMaxPct),
          num(i.memoryMaxMb),
        ]),
      ),
      '',
    );
  if (report.steps.length)
    out.push(
      ...table(
        ['STEP', 'KIND', 'AT', 'TOOK', 'STATUS'],
        report.steps.map((s) => [
          String(s.seq),
          s.kind,
          formatMs(s.tMs),
          s.durationMs === null ? '-' : formatMs(s.durationMs),
          s.status,
        ]),
      ),
    );
  for (const v of report.verdicts)
    out.push(`verdict at ${formatMs(v.tMs)}: ${v.result} — ${v.reasons.join('; ')}`);
  for (const v of report.watch?.verdicts ?? [])
    out.push(`watch verdict at ${formatMs(v.tMs)}: ${v.result} — ${v.reasons.join('; ')}`);
  return out.join('\n');
}

function num(n: number | null): string {
  return n === null ? '-' : n.toFixed(1);
}

function ms(n: number | null): string {
  return n === null ? '-' : `${n.toFixed(1)}ms`;
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}
