import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HotswapError } from '../errors.js';
import { parseSpec } from './parse.js';

const svc = (extra: string): string =>
  `services:\n  web:\n    image: app:v1\n    replicas: 4\n    port: 8080\n    listen: 127.0.0.1:8080\n${extra}`;

function problems(text: string): string[] {
  try {
    parseSpec(text, 'hotswap.yaml');
  } catch (err) {
    return (err as HotswapError).message.split('\n').slice(1);
  }
  return [];
}

test('a canary strategy keeps its steps in order, with durations in ms', () => {
  const spec = parseSpec(
    svc(`    strategy:
      type: canary
      steps:
        - setWeight: 10
        - pause: 30s
        - analysis: { interval: 5s, count: 4 }
        - setWeight: 50
        - pause: {}
    analysis:
      minRequests: 100
      errorRate: { max: 2% }
      latency: null
    keepPrevious: 10m
`),
    'hotswap.yaml',
  ).services[0]!;
  assert.deepEqual(spec.strategy, {
    type: 'canary',
    canaryReplicas: 'follow',
    steps: [
      { setWeight: 10 },
      { pause: { durationMs: 30_000 } },
      { analysis: { intervalMs: 5000, count: 4 } },
      { setWeight: 50 },
      { pause: { durationMs: null } },
    ],
  });
  assert.deepEqual(spec.analysis.errorRate, { maxAbsolute: 0.02, alpha: 0.05 });
  assert.equal(spec.analysis.latency, null);
  assert.equal(spec.analysis.minRequests, 100);
  assert.equal(spec.keepPreviousMs, 600_000);
});

test('blue-green with preview, auto promotion and pre-promotion analysis', () => {
  const spec = parseSpec(
    svc(`    strategy:
      type: blue-green
      previewListen: 127.0.0.1:8081
      autoPromotion: 1m
      prePromotionAnalysis: { count: 2 }
`),
    'hotswap.yaml',
  ).services[0]!;
  assert.deepEqual(spec.strategy, {
    type: 'blue-green',
    previewListen: '127.0.0.1:8081',
    autoPromotionMs: 60_000,
    prePromotionAnalysis: { intervalMs: 10_000, count: 2 },
    scaleDownDelayMs: 30_000,
  });
});

test('strategy keys of another strategy, a canary without steps and bad steps are errors at their place', () => {
  assert.deepEqual(problems(svc('    strategy: { type: canary, maxSurge: 1 }\n')), [
    'hotswap.yaml:7:5 services.web.strategy: a canary strategy needs steps',
    'hotswap.yaml:7:31 services.web.strategy.maxSurge: maxSurge applies only to the rolling strategy, not canary',
  ]);
  const bad = problems(
    svc('    strategy:\n      type: canary\n      steps: [{ setWeight: 150 }]\n'),
  );
  assert.equal(bad.length, 1);
  assert.match(
    bad[0]!,
    /^hotswap\.yaml:9:28 services\.web\.strategy\.steps\[0\]\.setWeight: expected a whole percentage from 0 to 100, found 150 \(150 is outside 0\.\.100\)$/,
  );
});
