// End to end, issue 14: the image policy against Debian's docker-registry on 127.0.0.1. Signatures
// are made here in cosign's format (simple-signing payload, ECDSA P-256, OCI manifest at the
// sha256-<hex>.sig tag). A signed image is deployed; under load, an unsigned one, one signed by
// another key, one whose payload names another digest and one with a payload that is not JSON are
// each refused before any instance starts, with 0 failed requests; the reason is in history and
// audit. A bad policy file changes nothing; a registry that is down is named.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { homePaths } from '../../src/daemon/paths.js';
import { cleanupScope, ensureFixtures, requireEngine } from '../helpers/docker.js';
import { freePort, getText, hotswap, type CliResult } from '../helpers/cli.js';
import { underLoad } from '../helpers/load.js';
import { TestRegistry } from '../helpers/oci.js';

const REPO = 'hotswap-sec/web';
const RATE = 100;

const keyPair = (): { privateKey: KeyObject; pem: string } => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
};

describe('signed images: cosign-format signatures checked before any instance starts', () => {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-sig-'));
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-sig-spec-'));
  const specFile = join(dir, 'hotswap.yaml');
  const policyFile = join(dir, 'policy.yaml');
  const ours = keyPair();
  const theirs = keyPair();
  let registry: TestRegistry;
  let digests = { v1: '', v2: '' };
  let port = 0;
  let deadRegistry = '';

  const image = (digest: string, reg = registry.address): string => `${reg}/${REPO}@${digest}`;
  const up = (img: string): Promise<CliResult> => {
    writeFileSync(
      specFile,
      `services:
  web:
    image: ${img}
    replicas: 2
    port: 8080
    listen: 127.0.0.1:${port}
    health: { http: /healthz, interval: 200ms, healthyThreshold: 2, deadline: 10s }
    strategy: { type: rolling, maxSurge: 1, maxUnavailable: 0 }
    drain: { timeout: 2s }
    stopGracePeriod: 2s
`,
    );
    return hotswap(home, ['up', '-f', specFile]);
  };
  const policyText = (keys: string[]): string =>
    `images:
  registries: ["${registry.address}", "${deadRegistry}"]
  refuseLatest: true
  requireDigest: true
  signatures:
    keys:
${keys.map((k) => `      - |\n        ${k.trim().split('\n').join('\n        ')}\n`).join('')}`;

  before(async () => {
    await requireEngine();
    await ensureFixtures();
    port = await freePort();
    deadRegistry = `127.0.0.1:${await freePort()}`;
    registry = await TestRegistry.start();
    digests = {
      v1: await registry.push('hotswap-fixture:v1', REPO, 'v1'),
      v2: await registry.push('hotswap-fixture:v2', REPO, 'v2'),
    };
    writeFileSync(policyFile, policyText([ours.pem]));
    const set = await hotswap(home, ['policy', 'set', '-f', policyFile]);
    assert.equal(set.code, 0, set.stderr);
  });

  after(async () => {
    await hotswap(home, ['down']);
    await cleanupScope(homePaths(home).scope);
    registry?.stop();
    for (const tag of ['v1', 'v2'])
      spawnSync('docker', ['rmi', `${registry.address}/${REPO}:${tag}`], { stdio: 'ignore' });
  });

  test('a signed image is deployed; a tag or :latest is refused by the policy', async () => {
    await registry.sign(REPO, digests.v1, ours.privateKey);
    const r = await up(image(digests.v1));
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal((await getText(`http://127.0.0.1:${port}/`)).version, 'v1');
    const tag = await up(`${registry.address}/${REPO}:v2`);
    assert.equal(tag.code, 11, tag.stderr);
    assert.match(tag.stderr, /IMAGE_REFUSED: .*has no digest; the policy requires one/);
  });

  test('unsigned, other key, payload for another digest, non-JSON payload: refused under load, 0 failed', async () => {
    const attempts: Array<[string, () => Promise<void>, RegExp]> = [
      [
        'unsigned',
        () => Promise.resolve(),
        /unsigned: no signature \(tag sha256-[0-9a-f]{64}\.sig\)/,
      ],
      [
        'another key',
        () => registry.sign(REPO, digests.v2, theirs.privateKey),
        /signed, but not by a key the policy lists/,
      ],
      [
        'payload for v1',
        () => registry.sign(REPO, digests.v2, ours.privateKey, { payloadDigest: digests.v1 }),
        /the signature payload is for sha256:[0-9a-f]{64}, not sha256:/,
      ],
      [
        'not JSON',
        () =>
          registry.sign(REPO, digests.v2, ours.privateKey, {
            payload: Buffer.from('{"critical": '),
          }),
        /the signature payload is not a valid simple-signing JSON document/,
      ],
    ];
    const m = await underLoad(`http://127.0.0.1:${port}/`, RATE, async () => {
      for (const [what, prepare, reason] of attempts) {
        await prepare();
        const r = await up(image(digests.v2));
        assert.equal(r.code, 11, `${what}: ${r.stderr}`);
        assert.match(r.stderr, reason, what);
      }
    });
    assert.equal(m.all.failed, 0, JSON.stringify(m.all.errors));
    assert.deepEqual(Object.keys(m.all.versions), ['v1'], 'only v1 served: nothing started');
    const h = await hotswap(home, ['history', 'web', '--json']);
    const hist = JSON.parse(h.stdout) as {
      revisions: unknown[];
      refusals: Array<{ image: string; reason: string }>;
    };
    assert.equal(hist.revisions.length, 1, 'no revision was made for a refused image');
    assert.ok(hist.refusals.some((r) => /not by a key the policy lists/.test(r.reason)));
    const audit = await hotswap(home, ['audit', '--service', 'web', '--json']);
    const outcomes = (JSON.parse(audit.stdout) as { entries: Array<{ outcome: string }> }).entries;
    assert.equal(outcomes.filter((e) => e.outcome.startsWith('error IMAGE_REFUSED')).length, 5);
  });

  test('a properly signed v2 rolls out', async () => {
    await registry.sign(REPO, digests.v2, ours.privateKey);
    const r = await up(image(digests.v2));
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal((await getText(`http://127.0.0.1:${port}/`)).version, 'v2');
  });

  test('a policy file with errors is refused at file:line:col and the old one stays', async () => {
    const bad = join(dir, 'bad-policy.yaml');
    writeFileSync(bad, `images:\n  refuseLatest: perhaps\n`);
    const r = await hotswap(home, ['policy', 'set', '-f', bad]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /bad-policy.yaml:2:17 images.refuseLatest: expected true or false/);
    const show = await hotswap(home, ['policy', 'show']);
    assert.match(show.stdout, /BEGIN PUBLIC KEY/);
    assert.match(show.stdout, /set .* by local:/);
  });

  test('a registry that cannot be reached is named', async () => {
    const r = await up(image(digests.v2, deadRegistry));
    assert.equal(r.code, 6, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`REGISTRY_UNAVAILABLE: cannot reach registry ${deadRegistry}`),
    );
  });
});
