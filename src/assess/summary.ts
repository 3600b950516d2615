import type { Sample } from './loadgen.js';

export interface LoadSummary {
  sent: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  durationMs: number;
  errors: Record<string, number>;
  versions: Record<string, number>;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

/** Summarizes the samples scheduled in [fromMs, toMs). Failed = transport errors + non-2xx. */
export function summarize(samples: Sample[], fromMs = 0, toMs = Infinity): LoadSummary {
  const window = samples.filter((s) => s.at >= fromMs && s.at < toMs);
  const latencies = window
    .filter((s) => s.ok)
    .map((s) => s.latencyMs)
    .sort((a, b) => a - b);
  const errors: Record<string, number> = {};
  const versions: Record<string, number> = {};
  for (const s of window) {
    if (!s.ok) {
      const kind = s.error ?? `HTTP ${s.status}`;
      errors[kind] = (errors[kind] ?? 0) + 1;
    }
    if (s.version) versions[s.version] = (versions[s.version] ?? 0) + 1;
  }
  // Loops, not Math.min(...xs): a long run has more samples than a call takes arguments.
  let first = window.length ? Infinity : 0;
  let last = window.length ? -Infinity : 0;
  for (const s of window) {
    first = Math.min(first, s.at);
    last = Math.max(last, s.at + s.latencyMs);
  }
  return {
    sent: window.length,
    failed: window.filter((s) => !s.ok).length,
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    durationMs: Math.round(last - first),
    errors,
    versions,
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
