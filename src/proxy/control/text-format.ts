// The Prometheus text exposition format (version 0.0.4), written by hand for the proxy: it renders
// counters the proxy keeps anyway, at scrape time, without a metrics library in the proxy process.
// https://prometheus.io/docs/instrumenting/exposition_formats/

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Record<string, string | number>;
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Accumulates families; each family's HELP and TYPE lines come once, before its samples. */
export class TextWriter {
  private readonly families = new Map<string, string[]>();

  family(name: string, type: MetricType, help: string): (labels: Labels, value: number) => void {
    const lines = this.lines(name, type, help);
    return (labels, value) => lines.push(sample(name, labels, value));
  }

  /**
   * A histogram from non-cumulative bucket counts with upper bounds (the last count is above the
   * last bound); `scale` converts bounds and sum to the exported unit.
   */
  histogram(
    name: string,
    help: string,
    labels: Labels,
    h: { bounds: readonly number[]; counts: readonly number[]; sum: number },
    scale: number,
    keep: (boundIndex: number) => boolean = () => true,
  ): void {
    const lines = this.lines(name, 'histogram', help);
    let cumulative = 0;
    for (let i = 0; i < h.bounds.length; i++) {
      cumulative += h.counts[i] ?? 0;
      if (!keep(i)) continue;
      lines.push(
        sample(`${name}_bucket`, { ...labels, le: formatNumber(h.bounds[i]! * scale) }, cumulative),
      );
    }
    cumulative += h.counts[h.bounds.length] ?? 0;
    lines.push(sample(`${name}_bucket`, { ...labels, le: '+Inf' }, cumulative));
    lines.push(sample(`${name}_sum`, labels, h.sum * scale));
    lines.push(sample(`${name}_count`, labels, cumulative));
  }

  private lines(name: string, type: MetricType, help: string): string[] {
    let lines = this.families.get(name);
    if (lines === undefined) {
      lines = [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`];
      this.families.set(name, lines);
    }
    return lines;
  }

  text(): string {
    const parts: string[] = [];
    for (const lines of this.families.values()) if (lines.length > 2) parts.push(lines.join('\n'));
    return parts.length ? `${parts.join('\n')}\n` : '';
  }
}

function sample(name: string, labels: Labels, value: number): string {
  const keys = Object.keys(labels);
  const set = keys.length
    ? `{${keys.map((k) => `${k}="${escapeLabel(String(labels[k]))}"`).join(',')}}`
    : '';
  return `${name}${set} ${formatNumber(value)}`;
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(Math.round(v * 1e9) / 1e9);
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
