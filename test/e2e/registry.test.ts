// Images from a registry, end to end: Debian's docker-registry (distribution) started on
// 127.0.0.1 with basic auth, the fixture images pushed as v1 and v2 and removed locally, then
// `hotswap up` pulls v1 and rolls to v2 with credentials from a docker config.json. A tag that
// does not exist and a registry that is down are clear errors while the old revision serves on.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import { DockerClient } from '../../src/runtime/index.js';
import { cleanupScope, ensureFixtures, FIXTURE_IMAGES, requireEngine } from '../helpers/docker.js';
import { freePort, getText, hotswap } from '../helpers/cli.js';

const USER = 'hotswap';
const PASSWORD = 'hotswap-test-pw';
// bcrypt (cost 4) of PASSWORD, as `htpasswd -Bbn` writes it: made once, so no bcrypt tool is needed.
const HTPASSWD = `${USER}:$2b$04$uXHR9PL5k3AGScrxjLWoPuZCfF6vliWfkj9oRgWn1yYdiZSGl5hde\n`;
const REPO = 'hotswap-e2e/web';

describe('images pulled from a registry', () => {
  const work = mkdtempSync(join(tmpdir(), 'hotswap-registry-'));
  const home = join(work, 'home');
  const specFile = join(work, 'hotswap.yaml');
  let registry: ChildProcess | null = null;
  let registryAddress = '';
  let docker: DockerClient;
  let port = 0;
  let v1Digest = '';
  const auth = () => ({ username: USER, password: PASSWORD, serveraddress: registryAddress });
  const image = (tag: string) => `${registryAddress}/${REPO}:${tag}`;

  async function startRegistry(): Promise<void> {
    const config = join(work, 'registry.yml');
    writeFileSync(join(work, 'htpasswd'), HTPASSWD);
    writeFileSync(
      config,
      [
        'version: 0.1',
        'log: { level: warn }',
        `storage: { filesystem: { rootdirectory: ${join(work, 'data')} }, delete: { enabled: true } }`,
        `http: { addr: "${registryAddress}" }`,
        `auth: { htpasswd: { realm: hotswap-test, path: ${join(work, 'htpasswd')} } }`,
      ].join('\n'),
    );
    registry = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    registry.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`http://${registryAddress}/v2/`).catch(() => null);
      if (res?.status === 401) return; // up, and asking for credentials
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`docker-registry did not start: ${stderr}`);
  }

  function stopRegistry(): void {
    registry?.kill('SIGTERM');
    registry = null;
  }

  async function up(tag: string, extra = ''): ReturnType<typeof hotswap> {
    writeFileSync(
      specFile,
      `services:
  web:
    image: "${registryAddress}/${REPO}:\${TAG}"
    replicas: 2
    port: 8080
    listen: 127.0.0.1:${port}
    health: { http: /healthz, interval: 200ms, deadline: 10s }
    drain: { timeout: 2s }
    stopGracePeriod: 2s
${extra}`,
    );
    process.env.TAG = tag;
    return hotswap(home, ['up', '-f', specFile]);
  }

  before(async () => {
    const engine = await requireEngine();
    await ensureFixtures();
    docker = new DockerClient({ socketPath: engine.socketPath });
    registryAddress = `127.0.0.1:${await freePort()}`;
    port = await freePort();
    mkdirSync(join(work, 'docker'));
    writeFileSync(
      join(work, 'docker', 'config.json'),
      JSON.stringify({
        auths: {
          [registryAddress]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') },
        },
      }),
    );
    process.env.DOCKER_CONFIG = join(work, 'docker'); // read by the daemon the CLI starts
    await startRegistry();
    for (const tag of ['v1', 'v2'] as const) {
      await docker.images.tag(FIXTURE_IMAGES[tag], `${registryAddress}/${REPO}`, tag);
      await docker.images.push(`${registryAddress}/${REPO}`, tag, auth());
      await docker.images.remove(image(tag)); // only this name: the fixture tag stays
    }
  });

  after(async () => {
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
    for (const tag of ['v1', 'v2', 'v9'])
      await docker.images.remove(image(tag)).catch(() => undefined);
    stopRegistry();
    await docker.close();
    delete process.env.DOCKER_CONFIG;
    delete process.env.TAG;
    rmSync(work, { recursive: true, force: true });
  });

  test('up pulls v1 with the stored credentials and records the pulled digest', async () => {
    assert.equal(await docker.images.find(image('v1')), null, 'v1 is not on the host before');
    const r = await up('v1');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /pulling 127\.0\.0\.1:\d+\/hotswap-e2e\/web:v1 as hotswap/);
    assert.equal((await getText(`http://127.0.0.1:${port}/`)).version, 'v1');

    const manifest = await fetch(`http://${registryAddress}/v2/${REPO}/manifests/v1`, {
      method: 'HEAD',
      headers: {
        accept: 'application/vnd.docker.distribution.manifest.v2+json',
        authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`,
      },
    });
    const digest = manifest.headers.get('docker-content-digest');
    assert.match(digest ?? '', /^sha256:[0-9a-f]{64}$/);
    v1Digest = digest ?? '';
    const history = await hotswap(home, ['history', 'web', '--json']);
    const revisions = (JSON.parse(history.stdout) as { revisions: Array<{ repoDigest: string }> })
      .revisions;
    assert.equal(revisions[0]?.repoDigest, `${registryAddress}/${REPO}@${digest}`);
  });

  test('rolling v1 → v2 pulls v2 and serves it', async () => {
    const r = await up('v2');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /pulled 127\.0\.0\.1:\d+\/hotswap-e2e\/web:v2 \(sha256:/);
    assert.equal((await getText(`http://127.0.0.1:${port}/`)).version, 'v2');
  });

  test('a tag that does not exist: exit 4, a clear message, v2 keeps serving', async () => {
    const r = await up('v9');
    assert.equal(r.code, 4, r.stderr + r.stdout);
    assert.match(
      r.stderr,
      /IMAGE_NOT_FOUND: cannot pull 127\.0\.0\.1:\d+\/hotswap-e2e\/web:v9: .*manifest unknown.* \(check the name and tag, and that it was pushed\)/,
    );
    assert.equal((await getText(`http://127.0.0.1:${port}/`)).version, 'v2');
  });

  test('a registry that is down: exit 6, a clear message, v2 keeps serving', async () => {
    stopRegistry();
    const r = await up('v2', '    pull: always\n');
    assert.equal(r.code, 6, r.stderr + r.stdout);
    assert.match(
      r.stderr,
      /REGISTRY_UNAVAILABLE: cannot pull 127\.0\.0\.1:\d+\/hotswap-e2e\/web:v2: .*connection refused.*\(check that the registry is up and reachable from the Docker host\)/,
    );
    assert.equal((await getText(`http://127.0.0.1:${port}/`)).version, 'v2');
  });

  test('an @sha256 pin already on the host is used without asking the (down) registry', async () => {
    writeFileSync(
      specFile,
      `services:
  web:
    image: "${registryAddress}/${REPO}@${v1Digest}"
    pull: always
    replicas: 2
    port: 8080
    listen: 127.0.0.1:${port}
    health: { http: /healthz, interval: 200ms, deadline: 10s }
    drain: { timeout: 2s }
    stopGracePeriod: 2s
`,
    );
    const r = await hotswap(home, ['up', '-f', specFile]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.doesNotMatch(r.stdout, /pulling/);
    assert.equal((await getText(`http://127.0.0.1:${port}/`)).version, 'v1');
  });
});
