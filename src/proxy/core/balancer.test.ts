import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Balancer } from './balancer.js';
import { RevisionCounters } from './stats.js';
import { Target } from './targets.js';

const owner = {
  connectFailed: () => undefined,
  hostUnreachable: () => undefined,
  longChanged: () => undefined,
  maxLongMs: 0,
};

function target(id: string, revision: number, port = 1000): Target {
  return new Target({ id, revision, address: `127.0.0.1:${port}` }, new RevisionCounters(), owner);
}

function countPicks(b: Balancer, n: number, hold = false): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const t = b.pick();
    assert.ok(t);
    if (hold) t.acquire();
    counts.set(t.id, (counts.get(t.id) ?? 0) + 1);
  }
  return counts;
}

test('smooth WRR splits 1:3 exactly over 400 picks, interleaved', () => {
  const targets = [target('a', 1), target('b', 2)];
  const b = new Balancer();
  b.rebuild(targets, { '1': 1, '2': 3 });
  const order = Array.from({ length: 8 }, () => b.pick()!.id).join('');
  // nginx's smooth WRR never sends the small side's share in a burst.
  assert.equal(order, 'babbbabb');
  b.rebuild(targets, { '1': 1, '2': 3 });
  const counts = countPicks(b, 400);
  assert.equal(counts.get('a'), 100);
  assert.equal(counts.get('b'), 300);
});

test('inside a revision the backend with the fewest in flight wins; ties rotate', () => {
  const [x, y, z] = [target('x', 1), target('y', 1), target('z', 1)];
  const b = new Balancer();
  b.rebuild([x, y, z], { '1': 1 });
  assert.deepEqual(
    Array.from({ length: 6 }, () => b.pick()!.id),
    ['x', 'y', 'z', 'x', 'y', 'z'],
  );
  x.acquire();
  x.acquire();
  y.acquire();
  assert.equal(b.pick()!.id, 'z');
  z.acquire();
  z.acquire();
  assert.equal(b.pick()!.id, 'y');
  // Held picks spread load evenly.
  const b2 = new Balancer();
  const ts = [target('p', 1), target('q', 1)];
  b2.rebuild(ts, { '1': 5 });
  const counts = countPicks(b2, 10, true);
  assert.equal(counts.get('p'), 5);
  assert.equal(counts.get('q'), 5);
});

test('zero weights, draining backends and empty revisions', () => {
  const a = target('a', 1);
  const c = target('c', 2);
  const b = new Balancer();
  b.rebuild([a, c], { '1': 100, '2': 0 });
  assert.deepEqual([...countPicks(b, 20)], [['a', 20]]);
  // Weight only on a revision with no backend: any active backend still serves.
  b.rebuild([a, c], { '3': 1 });
  assert.equal(countPicks(b, 20).size, 2);
  a.state = 'draining';
  b.rebuild([a, c], { '1': 100, '2': 0 });
  assert.deepEqual([...countPicks(b, 5)], [['c', 5]]);
  c.state = 'draining';
  b.rebuild([a, c], { '1': 100, '2': 0 });
  assert.equal(b.pick(), undefined);
  b.rebuild([], {});
  assert.equal(b.pick(), undefined);
});

test('a retry prefers another backend of the same revision, else any other', () => {
  const [a1, a2, b1] = [target('a1', 1), target('a2', 1), target('b1', 2)];
  const b = new Balancer();
  b.rebuild([a1, a2, b1], { '1': 1, '2': 1 });
  for (let i = 0; i < 5; i++) assert.equal(b.pick(new Set(['a1']))!.id, 'a2');
  assert.equal(b.pick(new Set(['b1']))!.id.startsWith('a'), true);
  assert.equal(b.pick(new Set(['a1', 'a2']))!.id, 'b1');
  assert.equal(b.pick(new Set(['a1', 'a2', 'b1'])), undefined);
});
