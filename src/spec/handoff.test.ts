import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HotswapError } from '../errors.js';
import { configHash } from './hash.js';
import { parseSpec } from './parse.js';
import type { SpecIssue } from './types.js';

const text = (handoff: string) => `services:
  web:
    image: app:v1
    port: 8080
    listen: 127.0.0.1:9000
    handoff:
      export: { http: { path: /hotswap/state } }
      import: { exec: [load-state] }
${handoff}`;

test('handoff: defaults, sizes with units, and no new revision when it changes', () => {
  const a = parseSpec(text(''), 'hotswap.yaml').services[0]!;
  assert.deepEqual(a.handoff, {
    export: { type: 'http', path: '/hotswap/state' },
    import: { type: 'exec', command: ['load-state'] },
    timeoutMs: 30_000,
    maxBytes: 16 * 1024 * 1024,
    onFail: 'fail',
  });
  const b = parseSpec(
    text('      maxBytes: 512KiB\n      onFail: continue\n      timeout: 5s\n'),
    'hotswap.yaml',
  ).services[0]!;
  assert.equal(b.handoff?.maxBytes, 512 * 1024);
  assert.equal(b.handoff?.onFail, 'continue');
  assert.equal(b.handoff?.timeoutMs, 5000);
  assert.equal(configHash(a), configHash(b));
});

test('handoff: a bad size is refused at its line and column', () => {
  try {
    parseSpec(text('      maxBytes: lots\n'), 'hotswap.yaml');
    assert.fail('expected SPEC_INVALID');
  } catch (err) {
    assert.ok(err instanceof HotswapError && err.code === 'SPEC_INVALID', String(err));
    const [issue] = (err.details as { issues: SpecIssue[] }).issues;
    assert.equal(
      `${issue?.line}:${issue?.col} ${issue?.path}`,
      '9:17 services.web.handoff.maxBytes',
    );
    assert.match(issue?.message ?? '', /expected a size like/);
  }
});
