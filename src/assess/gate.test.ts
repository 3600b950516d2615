import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeRun, loopbackUrl, parseLoadDuration, parseRate, parseShare } from './gate.js';
import type { Sample } from './loadgen.js';

function run(baseMs: number, duringMs: number, failAt: number[] = []): Sample[] {
  const out: Sample[] = [];
  for (let at = 0; at < 3000; at += 10) {
    const during = at >= 1000 && at < 2000;
    const failed = failAt.includes(at);
    out.push({
      at,
      latencyMs: during ? duringMs : baseMs,
      ok: !failed,
      status: failed ? 502 : 200,
      error: null,
      version: null,
      keepAlive: true,
    });
  }
  return out;
}

test('flags parse with errors that name them', () => {
  assert.equal(parseRate('500/s'), 500);
  assert.equal(parseRate('600/m'), 10);
  assert.throws(() => parseRate('fast'), /--rate: .*"fast"/);
  assert.equal(parseShare('20%', '--max-p99-increase'), 0.2);
  assert.equal(parseShare('0.5', '--keep-alive-share', 1), 0.5);
  assert.throws(() => parseShare('150%', '--keep-alive-share', 1), /--keep-alive-share/);
  assert.equal(parseLoadDuration('60s'), 60_000);
  assert.throws(() => parseLoadDuration('10ms'), /--duration/);
  assert.equal(loopbackUrl('0.0.0.0:8080'), 'http://127.0.0.1:8080/');
  assert.equal(loopbackUrl('[::]:81'), 'http://[::1]:81/');
  assert.throws(() => loopbackUrl('10.1.2.3:80'), /loopback only/);
});

test('the gate passes a clean run and names each broken threshold', () => {
  const clean = judgeRun(run(5, 5.5), 1000, 2000, { maxFailed: 0, maxP99Increase: 0.2 });
  assert.ok(clean.passed, clean.breaches.join());
  assert.equal(clean.p99IncreasePct, 10);
  assert.equal(clean.baseline.sent, 100);
  const bad = judgeRun(run(5, 8, [1500]), 1000, 2000, { maxFailed: 0, maxP99Increase: 0.2 });
  assert.equal(bad.passed, false);
  assert.equal(bad.breaches.length, 2);
  assert.match(bad.breaches[0]!, /1 failed request\(s\) > --max-failed 0 \(HTTP 502: 1\)/);
  assert.match(bad.breaches[1]!, /p99 rose 60% \(5 ms → 8 ms\) > --max-p99-increase 20%/);
  const tolerant = judgeRun(run(5, 8, [1500]), 1000, 2000, { maxFailed: 1, maxP99Increase: null });
  assert.ok(tolerant.passed);
  const short = judgeRun(run(5, 5), 100, 2000, { maxFailed: 0, maxP99Increase: 0.2 });
  assert.ok(short.passed && short.notJudged.length === 1, 'too short a baseline is not judged');
});
