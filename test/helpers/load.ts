import { LoadGenerator, summarize, type LoadSummary, type Sample } from '../../src/assess/index.js';

export interface LoadWindow {
  all: LoadSummary;
  during: LoadSummary;
  afterwards: LoadSummary;
  samples: Sample[];
  actionStart: number;
  actionEnd: number;
}

/** Runs `action` under a fixed-rate load (1 s before and after it) and summarizes the windows. */
export async function underLoad(
  url: string,
  rate: number,
  action: () => Promise<void>,
): Promise<LoadWindow> {
  const load = new LoadGenerator({
    url,
    ratePerSec: rate,
    connections: 'mixed',
    maxDurationMs: 240_000,
  });
  load.start();
  await new Promise((r) => setTimeout(r, 1000));
  const actionStart = load.now();
  let actionEnd: number;
  let samples: Sample[];
  try {
    await action();
  } finally {
    actionEnd = load.now();
    await new Promise((r) => setTimeout(r, 1000));
    samples = await load.stop();
  }
  return {
    all: summarize(samples),
    during: summarize(samples, actionStart, actionEnd),
    afterwards: summarize(samples, actionEnd + 200),
    samples,
    actionStart,
    actionEnd,
  };
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
