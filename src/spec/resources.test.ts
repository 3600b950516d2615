import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { HotswapError } from '../errors.js';
import { configHash } from './hash.js';
import { parseSpec } from './parse.js';
import { formatBytes, normalizeResources, parseBytes } from './resources.js';
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

test('sizes: docker units (binary), plain bytes, and mistakes', () => {
  assert.equal(parseBytes('256m'), 256 * 1024 ** 2);
  assert.equal(parseBytes('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(parseBytes('64MiB'), 64 * 1024 ** 2);
  assert.equal(parseBytes(1000), 1000);
  assert.match(String(parseBytes('lots')), /not a size/);
  assert.equal(formatBytes(6 * 1024 ** 2), '6.0 MB');
});

test('resources are read in bytes and are not in the config hash', () => {
  const plain = parseSpec(service(), 'hotswap.yaml').services[0]!;
  const limited = parseSpec(
    service('    resources: { cpus: 0.5, memory: 128m, memorySwap: 256m, pids: 64 }'),
    'hotswap.yaml',
  ).services[0]!;
  assert.deepEqual(limited.resources, {
    cpus: 0.5,
    memory: 128 * 1024 ** 2,
    memorySwap: 256 * 1024 ** 2,
    pids: 64,
  });
  assert.equal('resources' in plain, false);
  assert.equal(configHash(plain), configHash(limited));
});

test('cpus above the host, memory below 6 MB, swap below memory: refused with the figures', () => {
  const cores = availableParallelism();
  assert.deepEqual(
    problems(
      service(
        '    resources:',
        `      cpus: ${cores + 1}`,
        '      memory: 4m',
        '      memorySwap: 2m',
      ),
    ),
    [
      `hotswap.yaml:7:13 services.web.resources.cpus: cpus ${cores + 1} is more than this host's ${cores} CPU(s)`,
      "hotswap.yaml:8:15 services.web.resources.memory: memory 4.0 MB is below Docker's minimum of 6.0 MB",
      'hotswap.yaml:9:19 services.web.resources.memorySwap: memorySwap 2.0 MB is below memory 4.0 MB',
    ],
  );
  assert.deepEqual(problems(service('    resources: { pids: 10 }', '    pidsLimit: 10')), [
    'hotswap.yaml:7:16 services.web.pidsLimit: pidsLimit and resources.pids set the same limit: keep resources.pids',
  ]);
});

test('normalizeResources takes the host core count it is given', () => {
  const found: string[] = [];
  normalizeResources({ cpus: 3 }, (field, message) => found.push(`${field}: ${message}`), 2);
  assert.deepEqual(found, ["cpus: cpus 3 is more than this host's 2 CPU(s)"]);
});
