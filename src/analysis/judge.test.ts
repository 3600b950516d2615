import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HotswapError } from '../errors.js';
import { judge, type AnalysisConfig, type RevisionSample } from './judge.js';

const config: AnalysisConfig = {
  minRequests: 50,
  errorRate: { maxAbsolute: 0.02, alpha: 0.05 },
  latency: { maxP99Ratio: 1.5, alpha: 0.05 },
};

/** Deterministic PRNG (mulberry32) so the samples, and so the verdicts, never change. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Latencies shaped like a web service: a floor plus an exponential tail, rounded to 0.1 ms. */
function latencies(n: number, seed: number, scale = 1, floorMs = 20, meanTailMs = 15): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const v = (floorMs - meanTailMs * Math.log(1 - r())) * scale;
    return Math.round(v * 10) / 10;
  });
}

function sample(requests: number, errors: number, lat: number[]): RevisionSample {
  return { requests, errors, latenciesMs: lat };
}

test('5% errors against an error-free baseline fails, with the numbers in the reason', () => {
  const v = judge(config, sample(4500, 0, latencies(4500, 1)), sample(500, 25, latencies(500, 2)));
  assert.equal(v.result, 'fail');
  const m = v.metrics.errorRate!;
  assert.equal(m.result, 'fail');
  assert.equal(m.canaryRate, 0.05);
  assert.equal(m.method, 'fisher');
  assert.ok(m.pValue < 1e-20);
  assert.equal(m.threshold, 0.02);
  const reason = v.reasons[0]!;
  assert.match(
    reason,
    /^error rate 5\.0% \(25\/500\) vs baseline 0\.0% \(0\/4500\): z=\d+\.\d\d, p=/,
  );
  assert.match(reason, /above 2%$/);
  assert.equal(v.metrics.latency?.result, 'pass');
});

test('5% errors fail already with a few hundred requests per side', () => {
  const v = judge(config, sample(200, 0, latencies(200, 3)), sample(200, 10, latencies(200, 4)));
  assert.equal(v.result, 'fail');
  assert.ok(v.metrics.errorRate!.pValue < 0.001);
});

test('an error-free baseline too small for significance still fails a canary with >= 5 errors', () => {
  // 5/200 vs 0/50: Fisher p = C(200,5)/C(250,5) ≈ 0.32, not significant; the rule catches it.
  const v = judge(config, sample(50, 0, latencies(50, 5)), sample(200, 5, latencies(200, 6)));
  assert.equal(v.result, 'fail');
  assert.ok(v.metrics.errorRate!.pValue > 0.05);
  assert.match(v.reasons[0]!, /with 5 errors against an error-free baseline/);
  // Four errors are not enough for that rule (and 2.0% is not above 2% anyway at 4/200).
  const four = judge(config, sample(50, 0, latencies(50, 5)), sample(150, 4, latencies(150, 6)));
  assert.equal(four.metrics.errorRate!.result, 'pass');
});

test('a canary equal to the baseline passes, even when both are above the limit', () => {
  const same = judge(
    config,
    sample(4500, 90, latencies(4500, 7)),
    sample(500, 10, latencies(500, 8)),
  );
  assert.equal(same.result, 'pass');
  assert.match(same.reasons[0]!, /within 2%/);
  const bothHigh = judge(
    config,
    sample(4500, 225, latencies(4500, 9)),
    sample(500, 25, latencies(500, 10)),
  );
  assert.equal(bothHigh.result, 'pass');
  assert.equal(bothHigh.metrics.errorRate!.method, 'z');
  assert.match(bothHigh.reasons[0]!, /above 2% but not significantly above baseline/);
});

test('identical latency distributions pass', () => {
  const v = judge(config, sample(4500, 3, latencies(4500, 11)), sample(500, 0, latencies(500, 12)));
  assert.equal(v.result, 'pass');
  const l = v.metrics.latency!;
  assert.equal(l.result, 'pass');
  assert.equal(l.n1, 500);
  assert.equal(l.n2, 4500);
  assert.ok(l.ratio > 0.8 && l.ratio < 1.25, String(l.ratio));
});

test('3x latency fails by latency', () => {
  const v = judge(
    config,
    sample(4500, 0, latencies(4500, 13)),
    sample(500, 0, latencies(500, 14, 3)),
  );
  assert.equal(v.result, 'fail');
  assert.equal(v.metrics.errorRate!.result, 'pass');
  const l = v.metrics.latency!;
  assert.equal(l.result, 'fail');
  assert.equal(l.method, 'normal');
  assert.ok(l.pValue < 1e-10);
  assert.ok(l.ratio > 2.5 && l.ratio < 3.5, String(l.ratio));
  assert.ok(l.effect > 0.9);
  assert.match(v.reasons[1]!, /^latency p99 \d+\.\dms vs baseline \d+\.\dms \(x\d\.\d\d\)/);
  assert.match(v.reasons[1]!, /canary slower and p99 ratio above x1\.5$/);
});

test('a small absolute latency difference under minDeltaMs passes', () => {
  // 1-2 ms vs 2-4 ms: twice as slow and highly significant, but only a few ms at p99.
  const base = sample(1000, 0, latencies(1000, 15, 1, 1, 0.3));
  const canary = sample(500, 0, latencies(500, 16, 2, 1, 0.3));
  const strict = judge(config, base, canary);
  assert.equal(strict.result, 'fail', 'without minDeltaMs the ratio alone fails it');
  const lenient = judge(
    { ...config, latency: { ...config.latency!, minDeltaMs: 10 } },
    base,
    canary,
  );
  assert.equal(lenient.result, 'pass');
  assert.ok(lenient.metrics.latency!.deltaP99Ms < 10);
  assert.match(lenient.reasons[1]!, /within minDeltaMs 10\.0ms$/);
});

test('too few requests on either side is inconclusive, with the reason', () => {
  const v = judge(config, sample(4500, 0, latencies(4500, 17)), sample(30, 0, latencies(30, 18)));
  assert.equal(v.result, 'inconclusive');
  assert.deepEqual(v.reasons, [
    'too few requests to judge: canary 30, baseline 4500 (need 50 each)',
  ]);
  assert.deepEqual(v.metrics, {});
});

test('too few latency samples makes the latency check inconclusive, but a failure still wins', () => {
  const fewLatencies = judge(
    config,
    sample(4500, 0, latencies(4500, 19)),
    sample(500, 0, [12, 13]),
  );
  assert.equal(fewLatencies.result, 'inconclusive');
  assert.match(fewLatencies.reasons[1]!, /latency: too few samples: canary 2/);
  const failing = judge(config, sample(4500, 0, latencies(4500, 19)), sample(500, 25, [12, 13]));
  assert.equal(failing.result, 'fail');
});

test('disabled checks are skipped', () => {
  const v = judge(
    { minRequests: 50, errorRate: null, latency: null },
    sample(100, 0, []),
    sample(100, 100, []),
  );
  assert.equal(v.result, 'pass');
  assert.deepEqual(v.reasons, ['no checks configured']);
});

test('invalid input is refused', () => {
  const ok = sample(100, 0, [1]);
  assert.throws(() => judge(config, ok, sample(10, 11, [])), HotswapError);
  assert.throws(() => judge(config, ok, sample(100, 0, [Number.NaN])), HotswapError);
  assert.throws(
    () => judge({ ...config, errorRate: { maxAbsolute: 2, alpha: 0.05 } }, ok, ok),
    HotswapError,
  );
});

void test('judge: a doubled median fails even when noise hides it in the p99', () => {
  {
    // Baseline ~25 ms with a noisy tail up to 110 ms; canary ~65 ms with the same tail.
    const tail = (n: number) => Array.from({ length: n }, (_, i) => 100 + (i % 10));
    const baseline = {
      requests: 500,
      errors: 0,
      latenciesMs: [...Array.from({ length: 490 }, (_, i) => 24 + (i % 3)), ...tail(10)],
    };
    const canary = {
      requests: 120,
      errors: 0,
      latenciesMs: [...Array.from({ length: 117 }, (_, i) => 64 + (i % 3)), ...tail(3)],
    };
    const cfg = {
      minRequests: 20,
      errorRate: null,
      latency: { maxP99Ratio: 1.5, alpha: 0.05, minDeltaMs: 3 },
    };
    assert.equal(judge(cfg, baseline, canary).result, 'pass', 'p99 alone cannot see it');
    const v = judge({ ...cfg, latency: { ...cfg.latency, maxP50Ratio: 2 } }, baseline, canary);
    assert.equal(v.result, 'fail');
    assert.match(v.reasons.join(' '), /p50 ratio x2\.\d+ above x2/);
  }
});

void test('judge: a p99 from fewer than 100 samples a side is not compared (it is the maximum)', () => {
  // The canary is a little slower (U significant) and one hiccup makes its "p99" 3× the
  // baseline's; its median is the baseline's + 4%.
  const cfg: AnalysisConfig = {
    minRequests: 20,
    errorRate: null,
    latency: { maxP99Ratio: 1.5, alpha: 0.05, minDeltaMs: 3, maxP50Ratio: 2 },
  };
  const baseline = sample(400, 0, latencies(400, 11, 1, 20, 2));
  const slowish = (n: number): number[] => [...latencies(n - 1, 12, 1.04, 20, 2), 150];
  const few = judge(cfg, baseline, sample(40, 0, slowish(40)));
  assert.ok(few.metrics.latency!.pValue < 0.05, 'the U test sees the canary slower');
  assert.ok(few.metrics.latency!.ratio > 1.5, 'and its p99 is far above');
  assert.equal(few.result, 'pass');
  assert.match(few.reasons.join(' '), /p99 not compared below 100 samples a side/);
  const many = judge(cfg, baseline, sample(100, 0, [...slowish(98), 150, 150]));
  assert.equal(many.result, 'fail', 'with 100 samples its p99 counts');
  assert.match(many.reasons.join(' '), /p99 ratio above x1\.5/);
});
