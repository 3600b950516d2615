// End to end, issue 16 item 6: private networks and service discovery on the real engine. An app
// calls `api` by name on their network while api rolls v1 → v2 under load: 0 failed calls, since
// the name leads to hotswap's proxy on the network's gateway. A service on another (internal)
// network has no name for api, is refused at the gateway, and cannot reach api's instances
// directly. A network name taken by a network hotswap did not create is refused; `down` removes
// the networks.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import { DockerClient, dockerNetworkName } from '../../src/runtime/index.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { freePort, getText, hotswap, REPO_ROOT } from '../helpers/cli.js';
import { underLoad } from '../helpers/load.js';

interface NetworkInspect {
  Id: string;
  Name: string;
  Internal: boolean;
  IPAM: { Config: Array<{ Subnet: string; Gateway: string }> };
  Containers: Record<string, { Name: string; IPv4Address: string }>;
}

describe('private networks: service discovery and isolation', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-networks-'));
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-networks-spec-'));
  const specFile = join(dir, 'hotswap.yaml');
  const scope = homePaths(home).scope;
  const ports = { api: 0, app: 0, outsider: 0, taken: 0 };
  let client: DockerClient;
  /** A network of the right name that hotswap did not create (for the clash test). */
  let foreign: string | null = null;

  const inspect = (name: string) =>
    client.json<NetworkInspect>({ path: `/networks/${dockerNetworkName(scope, name)}` });

  const caller = (name: string, network: string, listen: number) => `  ${name}:
    image: hotswap-fixture:v1
    port: 8080
    listen: 127.0.0.1:${listen}
    networks: [${network}]
    volumes:
      - ./caller/caller.mjs:/app/server.js:ro # the image's entrypoint runs /app/server.js
      - ./caller/nsswitch.conf:/etc/nsswitch.conf:ro # files before DNS, as distro images have
    health: { http: /healthz, interval: 200ms, deadline: 15s }
    stopGracePeriod: 2s
`;
  const writeSpec = (apiImage: string, more = ''): void =>
    writeFileSync(
      specFile,
      `networks:
  front: {}
  back: { internal: true }
services:
  api:
    image: ${apiImage}
    replicas: 2
    port: 8080
    listen: 127.0.0.1:${ports.api}
    networks: [front]
    health: { http: /healthz, interval: 200ms, deadline: 15s }
    strategy: { type: rolling, maxSurge: 1, maxUnavailable: 0 }
    drain: { timeout: 2s }
    stopGracePeriod: 2s
${caller('app', 'front', ports.app)}${caller('outsider', 'back', ports.outsider)}${more}`,
    );

  before(async () => {
    const engine = await requireEngine();
    client = new DockerClient({ socketPath: engine.socketPath });
    await ensureFixtures();
    for (const k of Object.keys(ports) as Array<keyof typeof ports>) ports[k] = await freePort();
    cpSync(join(REPO_ROOT, 'test', 'fixtures', 'caller'), join(dir, 'caller'), { recursive: true });
  });

  after(async () => {
    await hotswap(home, ['down']);
    if (foreign)
      await client.request({ method: 'DELETE', path: `/networks/${foreign}` }).catch(() => null);
    await cleanupScope(scope);
    await client.close();
  });

  test('app calls api by name across a rolling update of api, with 0 failed calls', async () => {
    writeSpec('hotswap-fixture:v1');
    const first = await hotswap(home, ['up', '-f', specFile]);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const front = await inspect('front');
    assert.equal(front.Internal, false);
    assert.equal((await inspect('back')).Internal, true);
    const status = await hotswap(home, ['status', 'outsider']);
    const backGateway = (await inspect('back')).IPAM.Config[0]!.Gateway;
    assert.match(status.stdout, new RegExp(`networks back \\(internal\\) at ${backGateway}`));

    const call = `http://127.0.0.1:${ports.app}/call?url=${encodeURIComponent('http://api:8080/')}`;
    const once = await getText(call);
    assert.equal(once.body, '200 v1\n', 'app reaches api by name');

    writeSpec('hotswap-fixture:v2');
    let r!: Awaited<ReturnType<typeof hotswap>>;
    const m = await underLoad(call, 100, async () => {
      r = await hotswap(home, ['up', '-f', specFile]);
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const p50 = m.all.p50Ms;
    console.log(
      `networks: app → api by name: ${m.all.sent} calls during the update window, ${m.all.failed} failed; p50 ${p50} ms`,
    );
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    assert.equal((await getText(call)).body, '200 v2\n');
  });

  test('a service on another network cannot reach api: no name, refused at the gateway, no route', async () => {
    const front = await inspect('front');
    const gateway = front.IPAM.Config[0]!.Gateway;
    const apiIp = Object.values(front.Containers)
      .find((c) => c.Name.includes('-api-'))!
      .IPv4Address.split('/')[0]!;
    const probe = async (who: 'app' | 'outsider', url: string, host?: string) => {
      const q = new URLSearchParams({ url, ...(host ? { host } : {}) });
      return (await getText(`http://127.0.0.1:${ports[who]}/probe?${q.toString()}`)).body;
    };
    // The name: app's instances have it, pointing at the gateway; the outsider's do not.
    const appHosts = (await getText(`http://127.0.0.1:${ports.app}/hosts`)).body;
    const outsiderHosts = (await getText(`http://127.0.0.1:${ports.outsider}/hosts`)).body;
    assert.match(appHosts, new RegExp(`^${gateway.replaceAll('.', '\\.')}\\s+api$`, 'm'));
    assert.doesNotMatch(outsiderHosts, /\sapi$/m);
    // The gateway: the proxy answers app (same network) and closes the outsider's connection.
    assert.match(await probe('app', `http://${gateway}:8080/`, 'api:8080'), /^ok 200 v2/);
    assert.match(await probe('outsider', `http://${gateway}:8080/`, 'api:8080'), /^error /);
    // A service the caller's network does not have is not served there, even by Host.
    assert.match(await probe('app', `http://${gateway}:8080/`, 'outsider:8080'), /^ok 404/);
    // The instance itself: reachable on its network, not from another one (the engine's isolation).
    assert.match(await probe('app', `http://${apiIp}:8080/`), /^ok 200 v2/);
    const direct = await probe('outsider', `http://${apiIp}:8080/`);
    assert.match(direct, /^error /);
    console.log(`networks: outsider → gateway: refused; outsider → api instance: ${direct}`);
    // Only the proxy's listeners are on the host: the internal-only outsider publishes nothing.
    const outsider = await client.containers.list({
      labels: { 'hotswap.scope': scope, 'hotswap.service': 'outsider' },
    });
    assert.deepEqual(
      outsider[0]?.Ports.filter((p) => p.PublicPort),
      [],
    );
  });

  test('a service added to the network: its peers get a new revision that resolves it', async () => {
    const before = await hotswap(home, ['history', 'app', '--json']);
    const revisions = (s: string) => (JSON.parse(s) as { revisions: unknown[] }).revisions.length;
    writeSpec(
      'hotswap-fixture:v2',
      `  extra:
    image: hotswap-fixture:v1
    port: 8080
    listen: 127.0.0.1:${ports.taken}
    networks: [front]
    health: { http: /healthz, interval: 200ms, deadline: 15s }
`,
    );
    const r = await hotswap(home, ['up', '-f', specFile]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const after = await hotswap(home, ['history', 'app', '--json']);
    assert.equal(revisions(after.stdout), revisions(before.stdout) + 1, after.stdout);
    const call = `http://127.0.0.1:${ports.app}/call?url=${encodeURIComponent('http://extra:8080/')}`;
    assert.equal((await getText(call)).body, '200 v1\n');
    const outsider = await hotswap(home, ['history', 'outsider', '--json']);
    assert.equal(revisions(outsider.stdout), 1, 'a service on another network is left alone');
    const down = await hotswap(home, ['down', 'extra']);
    assert.equal(down.code, 0, down.stderr + down.stdout);
  });

  test('a network name hotswap did not create is refused, never adopted', async () => {
    const created = await client.json<{ Id: string }>({
      method: 'POST',
      path: '/networks/create',
      body: {
        Name: dockerNetworkName(scope, 'taken'),
        Labels: { 'hotswap.test': 'networks-e2e' },
      },
    });
    foreign = created.Id;
    writeFileSync(
      specFile,
      `networks:
  taken: {}
services:
  lone:
    image: hotswap-fixture:v1
    port: 8080
    listen: 127.0.0.1:${ports.taken}
    networks: [taken]
`,
    );
    const r = await hotswap(home, ['up', '-f', specFile]);
    assert.equal(r.code, 5, r.stderr + r.stdout);
    assert.match(r.stderr + r.stdout, /did not create; hotswap never adopts one/);
    const lone = await client.containers.list({
      labels: { 'hotswap.scope': scope, 'hotswap.service': 'lone' },
    });
    assert.equal(lone.length, 0, 'nothing started');
    const still = await client.json<NetworkInspect>({ path: `/networks/${foreign}` });
    assert.deepEqual(Object.keys(still.Containers ?? {}), [], 'the foreign network was not used');
  });

  test('down removes the networks hotswap created', async () => {
    const r = await hotswap(home, ['down']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const left = await client.json<Array<{ Name: string }>>({
      path: '/networks',
      query: { filters: JSON.stringify({ label: [`hotswap.scope=${scope}`] }) },
    });
    assert.deepEqual(
      left.map((n) => n.Name),
      [],
    );
  });
});
