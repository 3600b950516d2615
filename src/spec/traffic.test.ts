import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HotswapError } from '../errors.js';
import { parseSpec } from './parse.js';

const base = (extra: string, name = 'web', listen = '127.0.0.1:8080'): string =>
  `  ${name}:\n    image: app:v1\n    port: 8080\n    listen: ${listen}\n${extra}`;

function issues(text: string): string[] {
  try {
    parseSpec(text, 'hotswap.yaml');
  } catch (err) {
    return (err as HotswapError).message.split('\n').slice(1);
  }
  return [];
}

test('long connection policy, drain notice and routing are normalized', () => {
  const spec = parseSpec(
    `services:\n${base(`    drain:
      timeout: 5s
      longConnections: { policy: close, timeout: 2s }
      notify: { signal: SIGUSR2, grace: 500ms }
    routing:
      sticky: { cookie: user }
`)}`,
    'hotswap.yaml',
  );
  const svc = spec.services[0]!;
  assert.deepEqual(svc.drain, {
    timeoutMs: 5000,
    longConnections: { policy: 'close', timeoutMs: 2000 },
    notify: { type: 'signal', signal: 'SIGUSR2', graceMs: 500 },
  });
  assert.deepEqual(svc.routing, { hosts: [], pathPrefix: null, sticky: { cookie: 'user' } });
  assert.equal(svc.mode, 'http');
});

test('tcp mode refuses http routing and http probes', () => {
  const found = issues(
    `services:\n${base(`    mode: tcp
    health: { http: /healthz }
    routing: { sticky: { header: x-user } }
`)}`,
  );
  assert.equal(found.length, 2, found.join('\n'));
  assert.match(
    found[0]!,
    /^hotswap\.yaml:7:15 services\.web\.health\.http: a tcp service is probed with tcp/,
  );
  assert.match(
    found[1]!,
    /^hotswap\.yaml:8:5 services\.web\.routing: host, path and sticky routing need mode: http/,
  );
});

test('http services share a listener only when host or path rules tell them apart', () => {
  const shared = `services:\n${base('    routing: { path: /api }\n', 'api')}\n${base('', 'site')}`;
  assert.equal(parseSpec(shared, 'hotswap.yaml').services.length, 2);
  const clash = issues(`services:\n${base('', 'api')}\n${base('', 'site')}`);
  assert.equal(clash.length, 1);
  assert.match(clash[0]!, /services\.site\.listen: listen address 127\.0\.0\.1:8080 clashes/);
});

test('a drain notice takes exactly one of http or signal', () => {
  const found = issues(
    `services:\n${base('    drain:\n      notify: { http: /bye, signal: SIGTERM }\n')}`,
  );
  assert.equal(found.length, 1);
  assert.match(found[0]!, /services\.web\.drain\.notify: a drain notice is either http or signal/);
});
