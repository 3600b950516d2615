import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HotswapError } from '../errors.js';
import { parseAlertExpression } from './alert-expression.js';
import { configHash } from './hash.js';
import { parseSpec } from './parse.js';
import type { SpecIssue } from './types.js';

const service = (...more: string[]) =>
  [
    'services:',
    '  web:',
    '    image: web:v1',
    '    port: 8080',
    '    listen: 127.0.0.1:9000',
    ...more,
  ].join('\n') + '\n';

function issuesOf(text: string): SpecIssue[] {
  try {
    parseSpec(text, 'hotswap.yaml');
  } catch (err) {
    assert.ok(err instanceof HotswapError);
    return (err.details as { issues: SpecIssue[] }).issues;
  }
  assert.fail('expected SPEC_INVALID');
}

test('threshold expressions: units become fractions, ms and counts', () => {
  assert.deepEqual(parseAlertExpression('errorRate > 2%'), {
    kind: 'threshold',
    metric: 'errorRate',
    op: '>',
    value: 0.02,
  });
  assert.deepEqual(parseAlertExpression('p99>500ms'), {
    kind: 'threshold',
    metric: 'p99',
    op: '>',
    value: 500,
  });
  assert.deepEqual(parseAlertExpression('p95 >= 1.5s'), {
    kind: 'threshold',
    metric: 'p95',
    op: '>=',
    value: 1500,
  });
  assert.deepEqual(parseAlertExpression('restarts > 3'), {
    kind: 'threshold',
    metric: 'restarts',
    op: '>',
    value: 3,
  });
  assert.deepEqual(parseAlertExpression('cpu > 90%'), {
    kind: 'threshold',
    metric: 'cpu',
    op: '>',
    value: 90,
  });
  assert.deepEqual(parseAlertExpression('memory > 80%'), {
    kind: 'threshold',
    metric: 'memory',
    op: '>',
    value: 0.8,
  });
  assert.deepEqual(parseAlertExpression('errorRate > 0.05'), {
    kind: 'threshold',
    metric: 'errorRate',
    op: '>',
    value: 0.05,
  });
});

test('anomaly expressions, with and without z', () => {
  assert.deepEqual(parseAlertExpression('anomaly(errorRate)'), {
    kind: 'anomaly',
    metric: 'errorRate',
    z: 3,
  });
  assert.deepEqual(parseAlertExpression(' anomaly( latency , 4.5 ) '), {
    kind: 'anomaly',
    metric: 'latency',
    z: 4.5,
  });
});

test('bad expressions name the offset and the reason', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['erorRate > 2%', 0, /unknown metric "erorRate" — did you mean "errorRate"/],
    ['p99 > 500', 6, /p99 takes a duration like 500ms/],
    ['errorRate >> 2%', 11, /expected a number/],
    ['errorRate = 2%', 10, /expected ">", ">=", "<" or "<=", found "="/],
    ['cpu > 90', 6, /cpu takes a percentage/],
    ['restarts > 3 and', 13, /unexpected "and"/],
    ['anomaly(cpu)', 8, /unknown anomaly metric "cpu"/],
    ['anomaly(latency', 15, /expected "\)"/],
    ['anomaly(latency, -1)', 17, /unexpected "-"|positive number/],
    ['errorRate >', 11, /expected a value/],
    ['', 0, /empty/],
  ];
  for (const [text, offset, message] of cases) {
    const r = parseAlertExpression(text);
    assert.ok('offset' in r, `${text} should not parse`);
    assert.equal(r.offset, offset, `offset of the problem in "${text}"`);
    assert.match(r.message, message, text);
  }
});

test('notify and alerts are read with defaults and stay out of the config hash', () => {
  const plain = parseSpec(service(), 'hotswap.yaml').services[0]!;
  const watched = parseSpec(
    service(
      '    notify:',
      '      - webhook: http://127.0.0.1:9999/hook',
      '        secret: abcdefghijklmnopqrstuvwxyz',
      '        events: [rollout.failed, alert.firing]',
      '    alerts:',
      '      - { name: errors, when: "errorRate > 2%", for: 30s }',
      '      - { name: odd, when: anomaly(latency) }',
    ),
    'hotswap.yaml',
  ).services[0]!;
  assert.deepEqual(watched.notify, [
    {
      url: 'http://127.0.0.1:9999/hook',
      events: ['rollout.failed', 'alert.firing'],
      format: 'json',
      secret: 'abcdefghijklmnopqrstuvwxyz',
      timeoutMs: 5000,
      retries: 5,
    },
  ]);
  assert.equal(watched.alerts?.length, 2);
  assert.equal(watched.alerts?.[0]?.forMs, 30_000);
  assert.equal(watched.alerts?.[1]?.forMs, 60_000);
  assert.equal(watched.alerts?.[1]?.windowMs, 60_000);
  assert.equal(configHash(plain), configHash(watched));
});

test('a when that does not parse: file:line:col at the offending character', () => {
  const issues = issuesOf(
    service(
      '    alerts:',
      '      - name: errors',
      '        when: "errorRate > 2 percent"',
      '      - { name: lat, when: p99 > fast }',
    ),
  );
  assert.deepEqual(
    issues.map((i) => [i.line, i.col, i.path]),
    [
      [8, 28, 'services.web.alerts[0].when'],
      [9, 34, 'services.web.alerts[1].when'],
    ],
  );
  assert.equal(
    issues[0]!.message,
    'expected an expression like "errorRate > 2%", "p99 > 500ms" or "anomaly(latency)", found "errorRate > 2 percent" (errorRate takes a percentage like 2%, found "2")',
  );
});

test('a webhook that is not an http URL, an unknown event, a bad when: all at once', () => {
  const issues = issuesOf(
    service(
      '    notify:',
      '      - { webhook: "ftp://x/y", events: [rollout.exploded] }',
      '    alerts:',
      '      - { name: odd, when: anomaly(cpu) }',
    ),
  );
  assert.deepEqual(
    issues.map((i) => `${i.line}:${i.col} ${i.path}`),
    [
      '7:20 services.web.notify[0].webhook',
      '7:42 services.web.notify[0].events[0]',
      '9:36 services.web.alerts[0].when',
    ],
  );
  assert.match(
    issues[2]!.message,
    /\(unknown anomaly metric "cpu"; one of errorRate, latency, memory\)$/,
  );
});

test('a rule name used twice', () => {
  const issues = issuesOf(
    service(
      '    alerts:',
      '      - { name: a, when: "restarts > 3" }',
      '      - { name: a, when: "cpu > 90%" }',
    ),
  );
  assert.deepEqual(
    issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`),
    ['8:17 services.web.alerts[1].name: alert "a" is defined twice'],
  );
});

test('diff names changed alerts; webhooks only by count (they are credentials)', async () => {
  const { diffServices } = await import('./diff.js');
  const a = parseSpec(service(), 'hotswap.yaml').services[0]!;
  const b = parseSpec(
    service(
      '    notify: [{ webhook: "https://hooks.example.com/T/secret-path" }]',
      '    alerts: [{ name: errors, when: "errorRate > 2%" }]',
    ),
    'hotswap.yaml',
  ).services[0]!;
  const lines = diffServices(a, b);
  assert.deepEqual(lines, [
    'alerts: none → errors: errorRate > 2% for 1m',
    'notify: 0 → 1 webhook(s), changed',
  ]);
});
