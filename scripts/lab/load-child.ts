// The child process of load.ts: runs the generators, answers "stop" with their samples.
import { LoadGenerator } from '../../src/assess/index.js';
import type { LabLoadOptions } from './load.js';

let generators: LoadGenerator[] = [];

process.on('message', (m: { type: 'start'; opts: LabLoadOptions } | { type: 'stop' }) => {
  if (m.type === 'start') {
    generators = m.opts.urls.map(
      (url) =>
        new LoadGenerator({
          url,
          ratePerSec: m.opts.ratePerSec,
          connections: m.opts.connections ?? 'keep-alive',
          timeoutMs: m.opts.timeoutMs ?? 5_000,
          maxDurationMs: m.opts.maxDurationMs ?? 300_000,
          allowHosts: [new URL(url).hostname],
        }),
    );
    for (const g of generators) g.start();
    process.send?.({ type: 'started' });
  } else {
    void Promise.all(generators.map((g) => g.stop())).then((samples) => {
      process.send?.({ type: 'samples', samples }, () => process.exit(0));
    });
  }
});
