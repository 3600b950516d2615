import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REDACTED, redactEnv, redactUrl } from './redact.js';

test('a webhook keeps its origin and events; its secret and its path are masked', () => {
  const spec = {
    name: 'web',
    notify: [
      {
        url: 'https://hooks.slack.com/services/T0/B0/XYZ',
        events: ['rollout.failed'],
        format: 'slack',
        secret: 'very-secret-signing-key',
        timeoutMs: 5000,
        retries: 5,
      },
    ],
  };
  const out = redactEnv({ entries: [{ data: { spec } }] });
  const t = out.entries[0]!.data.spec.notify[0]!;
  assert.equal(t.url, `https://hooks.slack.com/${REDACTED}`);
  assert.equal(t.secret, REDACTED);
  assert.deepEqual(t.events, ['rollout.failed']);
  assert.equal(spec.notify[0]!.secret, 'very-secret-signing-key', 'the input is not changed');
  assert.equal(redactUrl('not a url'), REDACTED);
});
