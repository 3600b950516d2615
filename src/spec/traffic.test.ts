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
  assert.deepEqual(svc.routing, {
    hosts: [],
    pathPrefix: null,
    sticky: { cookie: 'user' },
    override: null,
  });
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
    /^hotswap\.yaml:8:5 services\.web\.routing: host, path, sticky and override routing need mode: http/,
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

test('routing.override: off by default; a header or a cookie, a secret of 16+ characters', () => {
  const on = parseSpec(
    `services:\n${base('    routing:\n      override: { header: X-Try, cookie: try, secret: "0123456789abcdef" }\n')}`,
    'hotswap.yaml',
  );
  assert.deepEqual(on.services[0]!.routing.override, {
    header: 'x-try',
    cookie: 'try',
    secret: '0123456789abcdef',
  });
  const short = issues(
    `services:\n${base('    routing:\n      override: { header: x, secret: short }\n')}`,
  );
  assert.equal(short.length, 1, short.join('\n'));
  assert.match(
    short[0]!,
    /^hotswap\.yaml:7:\d+ services\.web\.routing\.override\.secret: expected a secret of 16/,
  );
  const empty = issues(`services:\n${base('    routing:\n      override: {}\n')}`);
  assert.equal(empty.length, 1, empty.join('\n'));
  assert.match(empty[0]!, /services\.web\.routing\.override: override needs a header or a cookie/);
});

test('limits: sizes and durations, checked at their field', () => {
  const parsed = parseSpec(
    `services:\n${base('    limits: { maxConnections: 100, maxBody: 10mb, maxConnectionDuration: 1h, tcpIdleTimeout: 5m }\n')}`,
    'hotswap.yaml',
  );
  assert.deepEqual(parsed.services[0]!.limits, {
    maxConnections: 100,
    maxBodyBytes: 10 * 1024 * 1024,
    maxConnectionDurationMs: 3_600_000,
    tcpIdleTimeoutMs: 300_000,
  });
  const bad = issues(
    `services:\n${base('    limits: { maxBody: 10 megs, maxConnections: -1 }\n')}`,
  );
  assert.equal(bad.length, 2, bad.join('\n'));
  assert.match(bad.join('\n'), /services\.web\.limits\.maxBody: expected a size like "10mb"/);
  assert.match(bad.join('\n'), /services\.web\.limits\.maxConnections: /);
});
