// A local OCI registry for tests (Debian's docker-registry on 127.0.0.1, no auth, storage in a
// temp folder) and cosign-format signatures written to it the way `cosign sign --key` does.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_TYPE,
  signatureTag,
  simpleSigningPayload,
} from '../../src/security/index.js';
import { freePort } from './cli.js';

const MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export class TestRegistry {
  private constructor(
    readonly address: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(): Promise<TestRegistry> {
    const dir = mkdtempSync(join(tmpdir(), 'hotswap-oci-'));
    const address = `127.0.0.1:${await freePort()}`;
    const config = join(dir, 'registry.yml');
    writeFileSync(
      config,
      `version: 0.1\nlog: { level: warn }\nstorage: { filesystem: { rootdirectory: ${join(dir, 'data')} } }\nhttp: { addr: "${address}" }\n`,
    );
    const child = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`http://${address}/v2/`).catch(() => null);
      if (res?.status === 200) return new TestRegistry(address, child);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill();
    throw new Error('docker-registry did not start');
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }

  /** Tags a local image into this registry, pushes it, and returns the manifest digest. */
  async push(localImage: string, repo: string, tag: string): Promise<string> {
    const target = `${this.address}/${repo}:${tag}`;
    for (const args of [
      ['tag', localImage, target],
      ['push', '-q', target],
    ]) {
      const r = spawnSync('docker', args);
      if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr.toString()}`);
    }
    const res = await fetch(`http://${this.address}/v2/${repo}/manifests/${tag}`, {
      method: 'HEAD',
      headers: { accept: `${MANIFEST_V2}, ${OCI_MANIFEST}` },
    });
    return res.headers.get('docker-content-digest')!;
  }

  /**
   * Stores a cosign signature for `digest`: the simple-signing payload (for `payloadDigest`, the
   * same digest unless a test forges one) as a blob, signed with `key` (ECDSA P-256, SHA-256), in
   * an OCI manifest at the tag sha256-<hex>.sig. `payload` replaces the JSON document entirely.
   */
  async sign(
    repo: string,
    digest: string,
    key: KeyObject,
    opts: { payloadDigest?: string; payload?: Buffer } = {},
  ): Promise<void> {
    const payload =
      opts.payload ?? simpleSigningPayload(`${this.address}/${repo}`, opts.payloadDigest ?? digest);
    const config = Buffer.from('{}');
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        size: config.length,
        digest: await this.blob(repo, config),
      },
      layers: [
        {
          mediaType: SIMPLE_SIGNING_TYPE,
          size: payload.length,
          digest: await this.blob(repo, payload),
          annotations: { [SIGNATURE_ANNOTATION]: sign('sha256', payload, key).toString('base64') },
        },
      ],
    };
    const res = await fetch(`http://${this.address}/v2/${repo}/manifests/${signatureTag(digest)}`, {
      method: 'PUT',
      headers: { 'content-type': OCI_MANIFEST },
      body: JSON.stringify(manifest),
    });
    if (res.status !== 201)
      throw new Error(`signature manifest: ${res.status} ${await res.text()}`);
  }

  private async blob(repo: string, bytes: Buffer): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const start = await fetch(`http://${this.address}/v2/${repo}/blobs/uploads/`, {
      method: 'POST',
    });
    const location = new URL(start.headers.get('location')!, `http://${this.address}`);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${await put.text()}`);
    return digest;
  }
}
