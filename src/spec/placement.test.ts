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
    '    listen: 0.0.0.0:9000',
    ...more,
  ].join('\n') + '\n';

function problems(text: string): string[] {
  try {
    parseSpec(text, 'hotswap.yaml');
  } catch (err) {
    assert.ok(err instanceof HotswapError);
    return (err.details as { issues: SpecIssue[] }).issues.map(
      (i) => `hotswap.yaml:${i.line}:${i.col} ${i.path}: ${i.message}`,
    );
  }
  return assert.fail('expected SPEC_INVALID');
}

test('placement: constraints as Swarm writes them, spread over a node attribute', () => {
  const spec = parseSpec(
    service(
      '    placement:',
      '      constraints: ["node.labels.zone==a", "node.role != worker"]',
      '      spread: node.labels.zone',
    ),
    'hotswap.yaml',
  ).services[0]!;
  assert.deepEqual(spec.placement, {
    constraints: ['node.labels.zone==a', 'node.role != worker'],
    spread: 'node.labels.zone',
  });
  const plain = parseSpec(service('    placement: {}'), 'hotswap.yaml').services[0]!;
  assert.deepEqual(plain.placement, { constraints: [], spread: 'node.id' });
});

test('placement is part of the revision; a spec without it keeps its old config hash', () => {
  const without = parseSpec(service(), 'hotswap.yaml').services[0]!;
  assert.equal(without.placement, undefined);
  const withIt = parseSpec(service('    placement: { constraints: ["node.labels.zone==a"] }'), 'x')
    .services[0]!;
  assert.notEqual(configHash(withIt), configHash(without));
  assert.equal(configHash({ ...withIt, placement: undefined }), configHash(without));
});

test('a bad constraint or spread is named at file:line:col', () => {
  assert.deepEqual(problems(service('    placement: { constraints: ["zone=a"], spread: rack }')), [
    'hotswap.yaml:6:32 services.web.placement.constraints[0]: expected a constraint like "node.labels.zone==a" or "node.role!=manager", found "zone=a"',
    'hotswap.yaml:6:51 services.web.placement.spread: expected "node", "node.hostname" or "node.labels.<name>", found "rack"',
  ]);
});
