import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { HotswapError } from '../errors.js';
import { loadSpec, parseSpec } from './parse.js';
import type { SpecIssue } from './types.js';

const DEFAULT_ANALYSIS = {
  intervalMs: 10_000,
  failureLimit: 0,
  minRequests: 50,
  errorRate: { maxAbsolute: 0.01, alpha: 0.05 },
  latency: { maxP99Ratio: 1.5, maxP50Ratio: 2, alpha: 0.05, minDeltaMs: 5 },
  prometheus: null,
};

const lines = (...l: string[]) => l.join('\n') + '\n';

/** The error parseSpec throws for a text, checked to be SPEC_INVALID. */
function specError(text: string, file = 'hotswap.yaml'): HotswapError & { issues: SpecIssue[] } {
  try {
    parseSpec(text, file);
  } catch (err) {
    assert.ok(err instanceof HotswapError, `not a HotswapError: ${String(err)}`);
    assert.equal(err.code, 'SPEC_INVALID');
    const { issues } = err.details as { issues: SpecIssue[] };
    return Object.assign(err, { issues });
  }
  assert.fail('expected parseSpec to throw SPEC_INVALID');
}

/** The per-issue lines of the error message (the first line is a summary). */
const problemLines = (text: string) => specError(text).message.split('\n').slice(1);

void describe('parseSpec: valid specs', () => {
  const text = lines(
    'services:',
    '  web:',
    '    image: hotswap-fixture:v1',
    '    replicas: 3',
    '    port: 8080',
    '    listen: 127.0.0.1:8080',
    '    env: { VERSION: v1, RATIO: 1.10, DEBUG: true, COUNT: 3 }',
    '    command: ["node", "/app/server.js"]',
    '    volumes: ["./data:/data:ro", "named:/cache", "/var/log/x/../app:/logs:rw"]',
    '    health:',
    '      http: /healthz',
    '      interval: 500ms',
    '      timeout: 1.5s',
    '      healthyThreshold: 2',
    '      deadline: 2',
    '    strategy:',
    '      maxSurge: 1',
    '    drain:',
    '      timeout: 1m',
    '    stopGracePeriod: 1h',
    '  worker:',
    '    image: worker:1',
    '    port: 9000',
    '    listen: localhost:9001',
  );

  void it('normalizes every field, in file order', () => {
    const spec = parseSpec(text, '/srv/app/hotswap.yaml');
    assert.equal(spec.file, '/srv/app/hotswap.yaml');
    assert.deepEqual(
      spec.services.map((s) => s.name),
      ['web', 'worker'],
    );
    assert.deepEqual(spec.services[0], {
      name: 'web',
      image: 'hotswap-fixture:v1',
      pull: 'missing',
      replicas: 3,
      port: 8080,
      listen: '127.0.0.1:8080',
      // numbers and booleans keep their written text: 1.10 must not become "1.1"
      env: { VERSION: 'v1', RATIO: '1.10', DEBUG: 'true', COUNT: '3' },
      command: ['node', '/app/server.js'],
      volumes: [
        { source: '/srv/app/data', target: '/data', readOnly: true },
        { source: 'named', target: '/cache', readOnly: false },
        { source: '/var/log/app', target: '/logs', readOnly: false },
      ],
      health: {
        check: { type: 'http', path: '/healthz' },
        intervalMs: 500,
        timeoutMs: 1500,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
        deadlineMs: 2000,
      },
      strategy: { type: 'rolling', maxSurge: 1, maxUnavailable: 0, analysis: null },
      drain: {
        timeoutMs: 60_000,
        longConnections: { policy: 'keep', timeoutMs: 30_000 },
        notify: null,
      },
      mode: 'http',
      analysis: DEFAULT_ANALYSIS,
      keepPreviousMs: 0,
      routing: { hosts: [], pathPrefix: null, sticky: null, override: null },
      stopGracePeriodMs: 3_600_000,
      tls: null,
      limits: {
        maxConnections: 0,
        maxBodyBytes: 100 * 1024 * 1024,
        maxConnectionDurationMs: 0,
        tcpIdleTimeoutMs: 0,
      },
    });
  });

  void it('fills defaults for everything optional', () => {
    const worker = parseSpec(text, '/srv/app/hotswap.yaml').services[1];
    assert.deepEqual(worker, {
      name: 'worker',
      image: 'worker:1',
      pull: 'missing',
      replicas: 1,
      port: 9000,
      listen: 'localhost:9001',
      env: {},
      command: null,
      volumes: [],
      health: {
        check: { type: 'tcp' },
        intervalMs: 1000,
        timeoutMs: 1000,
        healthyThreshold: 1,
        unhealthyThreshold: 3,
        deadlineMs: 60_000,
      },
      // 25% of 1 replica rounds up to 1
      strategy: { type: 'rolling', maxSurge: 1, maxUnavailable: 0, analysis: null },
      drain: {
        timeoutMs: 30_000,
        longConnections: { policy: 'keep', timeoutMs: 30_000 },
        notify: null,
      },
      mode: 'http',
      analysis: DEFAULT_ANALYSIS,
      keepPreviousMs: 0,
      routing: { hosts: [], pathPrefix: null, sticky: null, override: null },
      stopGracePeriodMs: 10_000,
      tls: null,
      limits: {
        maxConnections: 0,
        maxBodyBytes: 100 * 1024 * 1024,
        maxConnectionDurationMs: 0,
        tcpIdleTimeoutMs: 0,
      },
    });
  });

  void it('accepts env as a list, command as a string, IPv6 listen, recreate, tcp: true', () => {
    const spec = parseSpec(
      lines(
        'services:',
        '  web:',
        '    image: web:v1',
        '    port: 80',
        '    listen: "[::1]:8080"',
        '    env: ["A=1", "B=x=y", "C="]',
        '    command: "  node   /app/server.js --port 80 "',
        '    health: { tcp: true }',
        '    strategy: { type: recreate }',
      ),
      'hotswap.yaml',
    );
    const web = spec.services[0];
    assert.deepEqual(web?.env, { A: '1', B: 'x=y', C: '' });
    assert.deepEqual(web?.command, ['node', '/app/server.js', '--port', '80']);
    assert.equal(web?.listen, '[::1]:8080');
    assert.deepEqual(web?.health.check, { type: 'tcp' });
    assert.deepEqual(web?.strategy, { type: 'recreate' });
  });

  void it('resolves relative volume sources against the folder of a relative spec path', () => {
    const spec = parseSpec(
      lines(
        'services:',
        '  web:',
        '    image: a',
        '    port: 1',
        '    listen: localhost:1',
        '    volumes: [./data:/d]',
      ),
      'deploy/hotswap.yaml',
    );
    assert.equal(spec.services[0]?.volumes[0]?.source, resolve('deploy', 'data'));
  });
});

void describe('parseSpec: percentages', () => {
  const withStrategy = (replicas: number, strategy: string) =>
    lines(
      'services:',
      '  web:',
      '    image: web:v1',
      `    replicas: ${replicas}`,
      '    port: 8080',
      '    listen: 127.0.0.1:8080',
      `    strategy: ${strategy}`,
    );
  const strategyOf = (replicas: number, strategy: string) =>
    parseSpec(withStrategy(replicas, strategy), 'hotswap.yaml').services[0]?.strategy;

  void it('rounds surge up and unavailable down, as Kubernetes does', () => {
    assert.deepEqual(strategyOf(10, '{ maxSurge: 25%, maxUnavailable: 25% }'), {
      type: 'rolling',
      maxSurge: 3,
      maxUnavailable: 2,
      analysis: null,
    });
    assert.deepEqual(strategyOf(3, '{ maxSurge: 50%, maxUnavailable: 50% }'), {
      type: 'rolling',
      maxSurge: 2,
      maxUnavailable: 1,
      analysis: null,
    });
  });

  void it('defaults maxSurge to 25% of replicas, rounded up', () => {
    assert.deepEqual(strategyOf(10, '{}'), {
      type: 'rolling',
      maxSurge: 3,
      maxUnavailable: 0,
      analysis: null,
    });
    assert.deepEqual(strategyOf(4, '{}'), {
      type: 'rolling',
      maxSurge: 1,
      maxUnavailable: 0,
      analysis: null,
    });
  });

  void it('allows both at 0 only when there are no replicas', () => {
    assert.deepEqual(strategyOf(0, '{ maxSurge: 0 }'), {
      type: 'rolling',
      maxSurge: 0,
      maxUnavailable: 0,
      analysis: null,
    });
  });

  void it('rejects maxSurge and maxUnavailable both resolving to 0', () => {
    // 20% of 4 = 0.8, which rounds down to 0 for maxUnavailable
    assert.deepEqual(problemLines(withStrategy(4, '{ maxSurge: 0, maxUnavailable: 20% }')), [
      'hotswap.yaml:7:27 services.web.strategy.maxSurge: maxSurge and maxUnavailable both resolve to 0 with replicas: 4, so a rolling update could never progress',
    ]);
  });

  void it('rejects percentages above 100% and fractions', () => {
    const issues = specError(withStrategy(4, '{ maxSurge: 150%, maxUnavailable: 1.5 }')).issues;
    assert.deepEqual(
      issues.map((i) => [i.line, i.col, i.path, i.found]),
      [
        [7, 27, 'services.web.strategy.maxSurge', '"150%"'],
        [7, 49, 'services.web.strategy.maxUnavailable', '1.5'],
      ],
    );
    assert.equal(issues[0]?.expected, 'a count like 1 or a percentage like "25%"');
  });
});

void describe('parseSpec: strategy.postPromotion', () => {
  const withWatch = (strategy: string) =>
    lines(
      'services:',
      '  web:',
      '    image: web:v1',
      '    port: 8080',
      '    listen: 127.0.0.1:8080',
      `    strategy: ${strategy}`,
    );
  const strategyOf = (strategy: string) =>
    parseSpec(withWatch(strategy), 'hotswap.yaml').services[0]?.strategy;

  void it('applies to every strategy; the interval defaults to analysis.interval', () => {
    assert.deepEqual(strategyOf('{ type: recreate, postPromotion: { window: 5m } }'), {
      type: 'recreate',
      postPromotion: { windowMs: 300_000, intervalMs: 10_000 },
    });
    const canary = strategyOf(
      '{ type: canary, steps: [{ setWeight: 50 }], postPromotion: { window: 6s, analysis: { interval: 2s } } }',
    );
    assert.deepEqual(canary?.postPromotion, { windowMs: 6000, intervalMs: 2000 });
    assert.equal(strategyOf('{ type: rolling }')?.postPromotion, undefined);
  });

  void it('refuses a missing window, an unknown key and an interval past the window, at file:line:col', () => {
    assert.deepEqual(problemLines(withWatch('{ postPromotion: { analysis: { interval: 1s } } }')), [
      'hotswap.yaml:6:32 services.web.strategy.postPromotion.window: missing required field "window" (expected a positive duration like "500ms", "2s", "1m" or a number of seconds)',
    ]);
    assert.deepEqual(
      problemLines(withWatch('{ postPromotion: { window: 1m, analysis: { count: 3 } } }')),
      [
        'hotswap.yaml:6:58 services.web.strategy.postPromotion.analysis.count: unknown field "count" (allowed: interval)',
      ],
    );
    assert.deepEqual(
      problemLines(withWatch('{ postPromotion: { window: 5s, analysis: { interval: 10s } } }')),
      [
        "hotswap.yaml:6:68 services.web.strategy.postPromotion.analysis.interval: the watch's judgement interval (10000 ms) is longer than its window (5000 ms): it would never judge",
      ],
    );
  });
});

void describe('parseSpec: errors point at file:line:col', () => {
  void it('wrong type: at the value, with expected and found', () => {
    const text = lines(
      'services:',
      '  web:',
      '    image: web:v1',
      '    replicas: three',
      '    port: "8080"',
      '    listen: 127.0.0.1:8080',
    );
    const err = specError(text);
    assert.equal(
      err.message,
      [
        'hotswap.yaml is not a valid hotswap spec (2 problems):',
        'hotswap.yaml:4:15 services.web.replicas: expected a non-negative integer, found "three"',
        'hotswap.yaml:5:11 services.web.port: expected a port number from 1 to 65535, found "8080"',
      ].join('\n'),
    );
    assert.deepEqual(err.issues[0], {
      file: 'hotswap.yaml',
      line: 4,
      col: 15,
      path: 'services.web.replicas',
      message: 'expected a non-negative integer, found "three"',
      expected: 'a non-negative integer',
      found: '"three"',
    });
  });

  void it('unknown field: at the key, with a did-you-mean at every level', () => {
    const text = lines(
      'services:',
      '  web:',
      '    image: web:v1',
      '    replica: 3',
      '    port: 8080',
      '    listen: 127.0.0.1:8080',
      '    strategy:',
      '      maxsurge: 1',
      '    colour: blue',
      'servics: {}',
    );
    assert.deepEqual(problemLines(text), [
      'hotswap.yaml:4:5 services.web.replica: unknown field "replica" — did you mean "replicas"?',
      'hotswap.yaml:8:7 services.web.strategy.maxsurge: unknown field "maxsurge" — did you mean "maxSurge"?',
      'hotswap.yaml:9:5 services.web.colour: unknown field "colour" (allowed: image, pull, replicas, port, mode, listen, env, envFile, command, volumes, health, strategy, drain, routing, analysis, tls, limits, keepPrevious, stopGracePeriod, user, readOnly, capDrop, capAdd, noNewPrivileges, pidsLimit, tmpfs, preflight, reload, handoff, resources, autoscale, notify, alerts, networks, placement)',
      'hotswap.yaml:10:1 servics: unknown field "servics" — did you mean "services"?',
    ]);
  });

  void it('missing required field: at the mapping that should hold it', () => {
    const text = lines('services:', '  web:', '    image: web:v1', '    port: 8080', '  api: {}');
    assert.deepEqual(problemLines(text), [
      'hotswap.yaml:3:5 services.web.listen: missing required field "listen" (expected an address like "127.0.0.1:8080", "[::1]:8080" or "localhost:8080")',
      'hotswap.yaml:5:8 services.api.image: missing required field "image" (expected an image reference like "name:tag")',
      'hotswap.yaml:5:8 services.api.port: missing required field "port" (expected a port number from 1 to 65535)',
      'hotswap.yaml:5:8 services.api.listen: missing required field "listen" (expected an address like "127.0.0.1:8080", "[::1]:8080" or "localhost:8080")',
    ]);
  });

  void it('missing services in an empty file: at 1:1', () => {
    assert.deepEqual(problemLines(''), [
      'hotswap.yaml:1:1 expected a mapping with a "services" key, found an empty value',
    ]);
    assert.deepEqual(problemLines('# nothing yet\nother: 1\n'), [
      'hotswap.yaml:2:1 services: missing required field "services" (expected a mapping of service names to services)',
      'hotswap.yaml:2:1 other: unknown field "other" (allowed: services, networks)',
    ]);
  });

  void it('broken YAML: syntax errors with their position, and nothing else', () => {
    const duplicateKey = lines(
      'services:',
      '  web:',
      '    image: a',
      '    image: b',
      '    replicas: three',
    );
    assert.deepEqual(problemLines(duplicateKey), [
      'hotswap.yaml:4:5 services.web.image: "image" is written twice in the same mapping; the second would silently win',
    ]);
    const unclosed = lines('services:', '  web:', '    command: [node, x', '    port: 1');
    // yaml notices the unclosed "[" where the next line fails to continue it
    assert.deepEqual(problemLines(unclosed), [
      'hotswap.yaml:4:5 invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  void it('an empty value points at its key, not at the end of the line', () => {
    const text = lines(
      'services:',
      '  web:',
      '    image:',
      '    port: 8080',
      '    listen: 127.0.0.1:8080',
    );
    assert.deepEqual(problemLines(text), [
      'hotswap.yaml:3:5 services.web.image: expected an image reference like "name:tag", found an empty value',
    ]);
  });

  void it('bad service name: at the name', () => {
    const text = lines(
      'services:',
      '  Web_1:',
      '    image: a',
      '    port: 1',
      '    listen: localhost:1',
    );
    const issues = specError(text).issues;
    assert.deepEqual(
      issues.map((i) => [i.line, i.col, i.path, i.found]),
      [[2, 3, 'services.Web_1', '"Web_1"']],
    );
  });

  void it('durations: reason included, zero refused where it makes no sense', () => {
    const text = lines(
      'services:',
      '  web:',
      '    image: a',
      '    port: 1',
      '    listen: localhost:1',
      '    health:',
      '      interval: 2 sec',
      '      timeout: 0s',
      '      deadline: 1000h',
      '    drain: { timeout: 0 }',
      '    stopGracePeriod: -1s',
    );
    assert.deepEqual(problemLines(text), [
      'hotswap.yaml:7:17 services.web.health.interval: expected a positive duration like "500ms", "2s", "1m" or a number of seconds, found "2 sec" (unknown unit "sec"; use ms, s, m or h)',
      'hotswap.yaml:8:16 services.web.health.timeout: expected a positive duration like "500ms", "2s", "1m" or a number of seconds, found "0s" (zero)',
      'hotswap.yaml:9:17 services.web.health.deadline: expected a positive duration like "500ms", "2s", "1m" or a number of seconds, found "1000h" (longer than the 596h limit)',
      'hotswap.yaml:11:22 services.web.stopGracePeriod: expected a duration like "500ms", "2s", "1m" or a number of seconds, found "-1s" (negative)',
    ]);
  });

  void it('env: the bad value inside a mapping, the bad entry inside a list', () => {
    const text = lines(
      'services:',
      '  web:',
      '    image: a',
      '    port: 1',
      '    listen: localhost:1',
      '    env:',
      '      OK: yes',
      '      NESTED: { a: 1 }',
      '  api:',
      '    image: a',
      '    port: 1',
      '    listen: localhost:2',
      '    env: ["A=1", "B"]',
    );
    assert.deepEqual(problemLines(text), [
      // a mapping is read as { valueFrom: { file } } (issue 14), so the message says what it lacks
      'hotswap.yaml:8:15 services.web.env.NESTED.valueFrom: missing required field "valueFrom" (expected a mapping with file)',
      'hotswap.yaml:8:17 services.web.env.NESTED.a: unknown field "a" (allowed: valueFrom)',
      'hotswap.yaml:13:18 services.api.env[1]: expected an entry like "NAME=value", found "B"',
    ]);
  });

  void it('listen, volumes and health: reasons and cross-field rules', () => {
    const text = lines(
      'services:',
      '  web:',
      '    image: a',
      '    port: 1',
      '    listen: example.com:80',
      '    volumes: ["./a:/x", "b:relative", "/c:/x"]',
      '  api:',
      '    image: a',
      '    port: 1',
      '    listen: localhost:2',
      '    volumes: ["./a:/x", "/c:/x:ro"]',
      '    health: { http: /healthz, tcp: true }',
      '    strategy:',
      '      type: recreate',
      '      maxUnavailable: 1',
    );
    assert.deepEqual(problemLines(text), [
      'hotswap.yaml:5:13 services.web.listen: expected an address like "127.0.0.1:8080", "[::1]:8080" or "localhost:8080", found "example.com:80" (host "example.com" is not an IPv4 address, [IPv6] address or localhost)',
      'hotswap.yaml:6:25 services.web.volumes[1]: expected a mount like "./data:/data:ro" or "name:/cache", found "b:relative" (target "relative" is not an absolute container path)',
      'hotswap.yaml:11:25 services.api.volumes[1]: target "/x" is mounted twice',
      'hotswap.yaml:12:31 services.api.health.tcp: a health check is one of http, tcp, exec or docker, not both http and tcp',
      'hotswap.yaml:15:7 services.api.strategy.maxUnavailable: maxUnavailable applies only to the rolling strategy, not recreate',
    ]);
  });

  void it('duplicate listen addresses across services: at the later one', () => {
    const text = lines(
      'services:',
      '  web:',
      '    image: web:v1',
      '    port: 8080',
      '    listen: 127.0.0.1:8080',
      '  api:',
      '    image: api:v1',
      '    port: 8080',
      '    listen: "127.0.0.1:8080"',
      '  admin:',
      '    image: admin:v1',
      '    port: 8080',
      '    listen: localhost:8080',
      '  public:',
      '    image: public:v1',
      '    port: 8080',
      '    listen: 0.0.0.0:8081',
      '  other:',
      '    image: other:v1',
      '    port: 8080',
      '    listen: 127.0.0.2:8081',
      '  v6:',
      '    image: v6:v1',
      '    port: 8080',
      '    listen: "[::1]:8082"',
    );
    assert.deepEqual(problemLines(text), [
      'hotswap.yaml:9:13 services.api.listen: listen address 127.0.0.1:8080 clashes with 127.0.0.1:8080 of service "web"',
      'hotswap.yaml:13:13 services.admin.listen: listen address localhost:8080 clashes with 127.0.0.1:8080 of service "web"',
      'hotswap.yaml:21:13 services.other.listen: listen address 127.0.0.2:8081 clashes with 0.0.0.0:8081 of service "public"',
    ]);
  });

  void it('collects problems from every service in one error, in file order', () => {
    const text = lines(
      'services:',
      '  web:',
      '    image: a',
      '    port: 70000',
      '    listen: localhost:1',
      '  api:',
      '    image: a',
      '    port: 1',
      '    listen: localhost:1',
      '  db:',
      '    imag: a',
      '    port: 1',
      '    listen: localhost:3',
    );
    const err = specError(text);
    assert.deepEqual(
      err.issues.map((i) => `${i.line}:${i.col} ${i.path}`),
      ['4:11 services.web.port', '11:5 services.db.image', '11:5 services.db.imag'],
    );
    assert.match(err.message, /^hotswap\.yaml is not a valid hotswap spec \(3 problems\):\n/);
    assert.equal(err.status, 400);
    assert.equal(err.exitCode, 2);
  });
});

void describe('loadSpec', () => {
  void it('fails with SPEC_NOT_FOUND and the path when the file is missing', async () => {
    const file = '/nonexistent/hotswap-test/hotswap.yaml';
    await assert.rejects(loadSpec(file), (err: unknown) => {
      assert.ok(err instanceof HotswapError);
      assert.equal(err.code, 'SPEC_NOT_FOUND');
      assert.equal(err.message, `cannot read spec file ${file} (${file}): no such file`);
      return true;
    });
  });
});
