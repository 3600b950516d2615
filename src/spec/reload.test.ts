import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HotswapError } from '../errors.js';
import { redactEnv } from '../security/redact.js';
import { configHash, reloadFilesHash } from './hash.js';
import { parseSpec } from './parse.js';
import type { SpecIssue } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'hotswap-reload-spec-'));
const file = join(dir, 'hotswap.yaml');
const text = (source = './app.conf', extra = '') => `services:
  web:
    image: nginx
    port: 8080
    listen: 127.0.0.1:9000
    reload:
      files:
        - source: ${source}
          target: /etc/app.conf
      trigger: { signal: SIGHUP }
      verify: { http: { path: /healthz, expect: { status: 200 } } }
${extra}`;

test('reload files are read with the spec and hashed apart from the revision', () => {
  writeFileSync(join(dir, 'app.conf'), 'one');
  const a = parseSpec(text(), file).services[0]!;
  assert.deepEqual(a.reload?.trigger, { type: 'signal', signal: 'SIGHUP' });
  assert.deepEqual(a.reload?.verify, { type: 'http', path: '/healthz', status: 200, body: null });
  assert.equal(a.reload?.timeoutMs, 10_000);
  assert.equal(Buffer.from(a.reload.files[0]!.content, 'base64').toString(), 'one');
  writeFileSync(join(dir, 'app.conf'), 'two');
  const b = parseSpec(text(), file).services[0]!;
  assert.equal(configHash(a), configHash(b), 'a file change is not a new revision');
  assert.notEqual(reloadFilesHash(a), reloadFilesHash(b));
  assert.equal(reloadFilesHash({}), null);
});

test('a missing reload file and a bad timeout are refused with their positions', () => {
  try {
    parseSpec(text('./nope.conf', '      timeout: soon\n'), file);
    assert.fail('expected SPEC_INVALID');
  } catch (err) {
    assert.ok(err instanceof HotswapError && err.code === 'SPEC_INVALID', String(err));
    const issues = (err.details as { issues: SpecIssue[] }).issues;
    const where = issues.map((i) => `${i.line}:${i.col} ${i.path}`);
    assert.deepEqual(where, [
      '8:19 services.web.reload.files[0].source',
      '12:16 services.web.reload.timeout',
    ]);
    assert.match(issues[0]!.message, /cannot read .*nope\.conf: ENOENT/);
  }
});

test('reload with a read-only root filesystem is refused at the reload key', () => {
  writeFileSync(join(dir, 'app.conf'), 'one');
  try {
    parseSpec(text('./app.conf', '    readOnly: true\n'), file);
    assert.fail('expected SPEC_INVALID');
  } catch (err) {
    assert.ok(err instanceof HotswapError && err.code === 'SPEC_INVALID', String(err));
    const [issue] = (err.details as { issues: SpecIssue[] }).issues;
    assert.equal(`${issue?.line}:${issue?.col} ${issue?.path}`, '6:5 services.web.reload');
    assert.match(issue?.message ?? '', /cannot be used with readOnly: true/);
  }
});

test('API answers show a reload file by target and digest, never its content', () => {
  writeFileSync(join(dir, 'app.conf'), 'password=hunter2');
  const svc = parseSpec(text(), file).services[0]!;
  const shown = JSON.stringify(redactEnv(svc));
  assert.ok(!shown.includes(svc.reload!.files[0]!.content), shown);
  assert.match(shown, /"target":"\/etc\/app.conf"/);
  assert.match(shown, /"sha256":"[0-9a-f]{64}"/);
});
