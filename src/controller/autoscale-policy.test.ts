import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AutoscaleSpec } from '../spec/types.js';
import { AutoscalePolicy } from './autoscale-policy.js';

const spec: AutoscaleSpec = { min: 1, max: 5, targetRps: 50, targetCpu: null, cooldownMs: 10_000 };
const obs = (at: number, replicas: number, rps: number) => ({
  at,
  replicas,
  rpsPerInstance: rps,
  cpuPercent: null,
});

test('scales out at once to ceil(n × value / target), clamped to max', () => {
  const p = new AutoscalePolicy(spec);
  assert.deepEqual(
    { ...p.decide(obs(0, 2, 120)), reason: '' },
    { action: 'scale', from: 2, to: 5, wanted: 5, reason: '' },
  );
  assert.equal(p.decide(obs(0, 2, 90)).to, 4);
});

test('within 10% of the target nothing changes', () => {
  const p = new AutoscalePolicy(spec);
  assert.equal(p.decide(obs(0, 3, 54)).action, 'hold');
  assert.equal(p.decide(obs(1, 3, 46)).action, 'hold');
});

test('cooldown after a change, then a scale-down only once the whole window asked for less', () => {
  const p = new AutoscalePolicy(spec);
  p.changed(0);
  const early = p.decide(obs(1000, 4, 200));
  assert.equal(early.action, 'hold');
  assert.match(early.reason, /cooling down \(9 s left\)/);
  // Load falls at 11 s: each tick asks for 1, but a burst at 15 s asks for 4 again.
  for (let t = 11_000; t < 15_000; t += 1000) assert.equal(p.decide(obs(t, 4, 5)).action, 'hold');
  assert.equal(p.decide(obs(15_000, 4, 50)).action, 'hold');
  for (let t = 16_000; t < 25_000; t += 1000) assert.equal(p.decide(obs(t, 4, 5)).action, 'hold');
  const down = p.decide(obs(26_000, 4, 5));
  assert.deepEqual([down.action, down.to], ['scale', 1]);
});

test('a count outside min..max is corrected first; no figures, no change', () => {
  const p = new AutoscalePolicy({ ...spec, min: 2 });
  assert.deepEqual([p.decide(obs(0, 1, 0)).action, p.decide(obs(0, 1, 0)).to], ['scale', 2]);
  const none = p.decide({ at: 0, replicas: 3, rpsPerInstance: null, cpuPercent: null });
  assert.deepEqual([none.action, none.reason], ['hold', 'no figures yet']);
});

test('cpu and rps together: the larger ask wins', () => {
  const p = new AutoscalePolicy({ ...spec, targetCpu: 50 });
  const d = p.decide({ at: 0, replicas: 2, rpsPerInstance: 60, cpuPercent: 150 });
  assert.equal(d.to, 5); // rps asks 3, cpu asks 6 → max 5
  assert.match(
    d.reason,
    /rps 60\.0 per instance \(target 50\) → 3, cpu 150\.0% per instance \(target 50%\) → 6/,
  );
});
