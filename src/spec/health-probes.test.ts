import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HotswapError } from '../errors.js';
import { configHash } from './hash.js';
import { parseSpec } from './parse.js';
import type { SpecIssue } from './types.js';

const service = (...health: string[]) =>
  [
    'services:',
    '  web:',
    '    image: web:v1',
    '    port: 8080',
    '    listen: 127.0.0.1:9000',
    ...health,
  ].join('\n') + '\n';

function issues(text: string): string[] {
  try {
    parseSpec(text, 'hotswap.yaml');
  } catch (err) {
    assert.ok(err instanceof HotswapError);
    return (err.details as { issues: SpecIssue[] }).issues.map(
      (i) => `${i.line}:${i.col} ${i.path}: ${i.message}`,
    );
  }
  return assert.fail('expected SPEC_INVALID');
}

test('health.exec, health.docker and a startup phase are read with their thresholds', () => {
  const exec = parseSpec(
    service(
      '    health:',
      '      exec: ["/usr/local/bin/node", "/app/health.js"]',
      '      interval: 500ms',
      '      healthyThreshold: 2',
      '      unhealthyThreshold: 4',
      '      startup: { deadline: 2m, healthyThreshold: 1 }',
    ),
    'hotswap.yaml',
  ).services[0]!.health;
  assert.deepEqual(exec, {
    check: { type: 'exec', command: ['/usr/local/bin/node', '/app/health.js'] },
    intervalMs: 500,
    timeoutMs: 1000,
    healthyThreshold: 2,
    unhealthyThreshold: 4,
    deadlineMs: 60_000,
    startup: { intervalMs: 500, healthyThreshold: 1, deadlineMs: 120_000 },
  });
  const docker = parseSpec(service('    health: { docker: true }'), 'hotswap.yaml').services[0]!;
  assert.deepEqual(docker.health.check, { type: 'docker' });
  assert.equal(docker.health.startup, undefined);
});

test('a spec without the new fields keeps its config hash (no startup key appears)', () => {
  const web = parseSpec(service('    health: { http: /healthz }'), 'hotswap.yaml').services[0]!;
  assert.equal('startup' in web.health, false);
  const withStartup = parseSpec(
    service('    health: { http: /healthz, startup: { deadline: 30s } }'),
    'hotswap.yaml',
  ).services[0]!;
  assert.notEqual(configHash(web), configHash(withStartup));
});

test('two check kinds, an empty exec, a bad startup deadline: file:line:col and field', () => {
  assert.deepEqual(
    issues(
      service(
        '    health:',
        '      exec: []',
        '      docker: false',
        '      startup: { deadline: 0s, colour: red }',
      ),
    ),
    [
      '7:13 services.web.health.exec: expected a non-empty list of arguments, found an empty list',
      '8:15 services.web.health.docker: expected true, found false',
      '9:28 services.web.health.startup.deadline: expected a positive duration like "500ms", "2s", "1m" or a number of seconds, found "0s" (zero)',
      '9:32 services.web.health.startup.colour: unknown field "colour" (allowed: deadline, interval, healthyThreshold)',
    ],
  );
  assert.deepEqual(issues(service('    health: { docker: true, exec: ["/bin/true"] }')), [
    '6:15 services.web.health.docker: a health check is one of http, tcp, exec or docker, not both exec and docker',
  ]);
});
