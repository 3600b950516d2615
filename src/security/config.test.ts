import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { loadConfig, METRICS_LISTEN_ENV } from './config.js';

function home(text?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-config-'));
  if (text !== undefined) writeFileSync(join(dir, 'config.yaml'), text);
  return dir;
}

afterEach(() => {
  delete process.env[METRICS_LISTEN_ENV];
});

test('metrics.listen is read from config.yaml; absent means no endpoint', () => {
  assert.deepEqual(loadConfig(home('metrics:\n  listen: 127.0.0.1:9464\n')).metricsListen, {
    host: '127.0.0.1',
    port: 9464,
  });
  assert.equal(loadConfig(home()).metricsListen, null);
  assert.equal(loadConfig(home('policy: {}\n')).metricsListen, null);
});

test('HOTSWAP_METRICS_LISTEN overrides config.yaml, with or without the file', () => {
  process.env[METRICS_LISTEN_ENV] = '[::1]:9100';
  const want = { host: '[::1]', port: 9100 };
  assert.deepEqual(loadConfig(home('metrics:\n  listen: 127.0.0.1:9464\n')).metricsListen, want);
  assert.deepEqual(loadConfig(home()).metricsListen, want);
  process.env[METRICS_LISTEN_ENV] = 'nope';
  assert.throws(() => loadConfig(home()), /HOTSWAP_METRICS_LISTEN=nope/);
});

test('a bad metrics.listen names the file, line:col and the field', () => {
  const dir = home('metrics:\n  listen: "no port"\n');
  assert.throws(
    () => loadConfig(dir),
    (err: Error) =>
      err.message.includes('config.yaml:2:') && err.message.includes('metrics.listen'),
  );
  assert.throws(() => loadConfig(home('metrics:\n  lsten: x\n')), /config\.yaml:2:/);
});

test('notify: webhooks for every service, with defaults; a bad one at file:line:col', () => {
  const cfg = loadConfig(
    home('notify:\n  - webhook: http://127.0.0.1:9/hook\n    format: slack\n    timeout: 2s\n'),
  );
  assert.deepEqual(cfg.notify, [
    {
      url: 'http://127.0.0.1:9/hook',
      events: [
        'rollout.started',
        'rollout.succeeded',
        'rollout.failed',
        'rollout.rolled-back',
        'rollout.paused',
        'instance.crash-looping',
        'alert.firing',
        'alert.resolved',
      ],
      format: 'slack',
      secret: null,
      timeoutMs: 2000,
      retries: 5,
    },
  ]);
  assert.deepEqual(loadConfig(home()).notify, []);
  assert.throws(
    () => loadConfig(home('notify:\n  - webhook: http://127.0.0.1:9/\n    events: [deploy]\n')),
    /config\.yaml:3:14 notify\.0\.events\.0: /,
  );
});
