// End to end, issue 16 item 1: a real nginx (the host's binary, packaged FROM scratch) has its
// config changed and reloaded with SIGHUP under 200 req/s with 0 failed requests and no new
// revision; a config nginx rejects fails the verify and is undone while the old one keeps
// serving; the files are part of an instance's creation; a missing reload file is a spec error.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildNginxImage, NGINX_IMAGE } from '../../scripts/nginx-image.js';
import { homePaths } from '../../src/daemon/paths.js';
import { DockerClient } from '../../src/runtime/docker/client.js';
import { cleanupScope, requireEngine } from '../helpers/docker.js';
import { freePort, getText, hotswap } from '../helpers/cli.js';
import { underLoad } from '../helpers/load.js';

const conf = (version: string, extra = ''): string => `daemon off;
worker_processes 1;
user nobody nogroup;
pid /run/nginx.pid;
error_log stderr warn;
events { worker_connections 512; }
http {
  access_log off;
  default_type text/plain;
  server {
    listen 8080;
    add_header X-Version ${version} always;
    location /healthz { return 200 "ok\\n"; }
    location / { return 200 "${version}\\n"; }
    ${extra}
  }
}
`;

interface Status {
  services: Array<{ stableRevision: number; instances: Array<{ id: string; serving: boolean }> }>;
}

describe('in-place reload of a real nginx', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-reload-'));
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-reload-spec-'));
  const specFile = join(dir, 'hotswap.yaml');
  let port = 0;
  const url = (): string => `http://127.0.0.1:${port}/`;

  const writeSpec = (
    expect: string,
    source = './nginx.conf',
    trigger = '{ signal: SIGHUP }',
    more = '',
  ): void =>
    writeFileSync(
      specFile,
      `services:
  web:
    image: ${NGINX_IMAGE}
    replicas: 2
    port: 8080
    listen: 127.0.0.1:${port}
    health: { http: /healthz, interval: 200ms, deadline: 10s }
    drain: { timeout: 1s }
    stopGracePeriod: 2s
    reload:
      files:
        - source: ${source}
          target: /etc/nginx/nginx.conf
${more}      trigger: ${trigger}
      verify: { http: { path: /, expect: { status: 200, body: ${expect} } } }
      timeout: 3s
`,
    );
  const status = async (): Promise<Status['services'][0]> => {
    const r = await hotswap(home, ['status', '--json']);
    return (JSON.parse(r.stdout) as Status).services[0]!;
  };
  const serving = async (): Promise<string[]> =>
    (await status()).instances.filter((i) => i.serving).map((i) => i.id);
  const configIn = async (id: string): Promise<string> =>
    (await new DockerClient().containers.readFile(id, '/etc/nginx/nginx.conf')).toString('utf8');

  before(async () => {
    const engine = await requireEngine();
    await buildNginxImage({ socketPath: engine.socketPath, log: console.log });
    port = await freePort();
  });

  after(async () => {
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
  });

  test('the first deploy starts nginx with the reload file copied in before start', async () => {
    writeFileSync(join(dir, 'nginx.conf'), conf('v1'));
    writeSpec('v1');
    const r = await hotswap(home, ['up', '-f', specFile]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const res = await getText(url());
    assert.equal(res.body, 'v1\n');
    assert.equal(res.version, 'v1');
  });

  test('a changed config is reloaded with SIGHUP under 200 req/s: 0 failed, same containers', async () => {
    const before = await serving();
    writeFileSync(join(dir, 'nginx.conf'), conf('v2'));
    writeSpec('v2');
    let r!: Awaited<ReturnType<typeof hotswap>>;
    const m = await underLoad(url(), 200, async () => {
      r = await hotswap(home, ['up', '-f', specFile, '--json']);
    });
    const took = /"durationMs":\s*(\d+)/.exec(r.stdout)?.[1];
    console.log(
      `reload under 200 req/s: ${m.all.sent} sent, ${m.all.failed} failed, reload of 2 ` +
        `instances took ${took} ms, versions ${JSON.stringify(m.all.versions)}`,
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    assert.ok((m.afterwards.versions['v2'] ?? 0) > 0, 'the new behaviour is visible');
    assert.equal(m.afterwards.versions['v1'] ?? 0, 0, 'no instance kept the old config');
    assert.deepEqual((await serving()).sort(), before.sort(), 'no container was replaced');
    const st = await status();
    assert.equal(st.stableRevision, 1, 'no new revision');
    const h = await hotswap(home, ['history', 'web', '--json']);
    const rollouts = (JSON.parse(h.stdout) as { rollouts: Array<{ kind: string; status: string }> })
      .rollouts;
    assert.equal(rollouts[0]?.kind, 'reload');
    assert.equal(rollouts[0]?.status, 'succeeded');
  });

  test('a config nginx rejects fails the verify, is undone, and v2 keeps serving', async () => {
    const ids = await serving();
    writeFileSync(join(dir, 'nginx.conf'), conf('v3', 'this is not nginx syntax;'));
    writeSpec('v3');
    let r!: Awaited<ReturnType<typeof hotswap>>;
    const m = await underLoad(url(), 200, async () => {
      r = await hotswap(home, ['up', '-f', specFile]);
    });
    console.log(
      `broken config under 200 req/s: ${m.all.sent} sent, ${m.all.failed} failed, ` +
        `versions ${JSON.stringify(m.all.versions)}`,
    );
    assert.equal(r.code, 3, r.stderr + r.stdout);
    assert.match(r.stderr + r.stdout, /reload verify failed/);
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    assert.deepEqual(Object.keys(m.all.versions), ['v2'], 'the old behaviour kept serving');
    for (const id of ids) assert.match(await configIn(id), /return 200 "v2/, 'old file restored');
    const h = await hotswap(home, ['history', 'web', '--json']);
    const last = (JSON.parse(h.stdout) as { rollouts: Array<{ kind: string; status: string }> })
      .rollouts[0];
    assert.deepEqual([last?.kind, last?.status], ['reload', 'failed']);
  });

  test('hotswap reload re-applies; new instances are created with the current files', async () => {
    writeFileSync(join(dir, 'nginx.conf'), conf('v2'));
    writeSpec('v2');
    const manual = await hotswap(home, ['reload', 'web']);
    assert.equal(manual.code, 0, manual.stderr + manual.stdout);
    // restart makes new containers: without the files at creation they would serve the image's
    // own config ("nginx").
    const restart = await hotswap(home, ['restart', 'web']);
    assert.equal(restart.code, 0, restart.stderr + restart.stdout);
    for (let i = 0; i < 6; i++) assert.equal((await getText(url())).body, 'v2\n');
  });

  test('a missing reload file is refused with file:line:col, and nothing changes', async () => {
    const ids = await serving();
    writeSpec('v9', './missing.conf');
    const r = await hotswap(home, ['up', '-f', specFile]);
    assert.equal(r.code, 2, r.stderr + r.stdout);
    assert.match(
      r.stderr,
      /hotswap\.yaml:12:19 services\.web\.reload\.files\[0\]\.source.*cannot read .*missing\.conf: ENOENT/,
    );
    assert.deepEqual((await serving()).sort(), ids.sort());
    assert.equal((await getText(url())).body, 'v2\n');
  });

  test('a trigger that hangs is cut at its timeout and undone; v2 keeps serving', async () => {
    const ids = await serving();
    // The trigger starts a second nginx in the foreground: it never returns.
    writeFileSync(
      join(dir, 'hang.conf'),
      'daemon off; master_process off; pid /tmp/hang.pid; error_log stderr;\n' +
        'events {} http { server { listen 8081; } }\n',
    );
    writeFileSync(join(dir, 'nginx.conf'), conf('v4'));
    writeSpec(
      'v4',
      './nginx.conf',
      '{ exec: [/usr/sbin/nginx, -c, /etc/nginx/hang.conf] }',
      '        - source: ./hang.conf\n          target: /etc/nginx/hang.conf\n',
    );
    const t0 = Date.now();
    const r = await hotswap(home, ['up', '-f', specFile]);
    const took = Date.now() - t0;
    console.log(`hanging trigger: up returned after ${took} ms (timeout 3s)`);
    assert.equal(r.code, 3, r.stderr + r.stdout);
    assert.match(r.stderr + r.stdout, /reload trigger exec .* ran longer than 3000 ms/);
    assert.ok(took < 20_000, `took ${took} ms`);
    for (const id of ids) assert.match(await configIn(id), /return 200 "v2/, 'old file restored');
    for (let i = 0; i < 6; i++) assert.equal((await getText(url())).body, 'v2\n');
  });
});
