import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HotswapError } from '../errors.js';
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

test('autoscale is read with its defaults and is not in the config hash', () => {
  const plain = parseSpec(service(), 'hotswap.yaml').services[0]!;
  const scaled = parseSpec(
    service('    autoscale: { min: 1, max: 4, targetRps: 50 }'),
    'hotswap.yaml',
  ).services[0]!;
  assert.deepEqual(scaled.autoscale, {
    min: 1,
    max: 4,
    targetRps: 50,
    targetCpu: null,
    cooldownMs: 30_000,
  });
  assert.equal(configHash(plain), configHash(scaled));
});

test('min above max, and no target: at file:line:col', () => {
  try {
    parseSpec(service('    autoscale:', '      min: 5', '      max: 2'), 'hotswap.yaml');
    assert.fail('expected SPEC_INVALID');
  } catch (err) {
    assert.ok(err instanceof HotswapError);
    assert.deepEqual(
      (err.details as { issues: SpecIssue[] }).issues.map(
        (i) => `${i.line}:${i.col} ${i.path}: ${i.message}`,
      ),
      [
        '6:5 services.web.autoscale: autoscale needs targetRps, targetCpu or both',
        '7:12 services.web.autoscale.min: min 5 is above max 2',
      ],
    );
  }
});
