// A signed head of the audit chain, rewritten after every append: `<home>/audit-head.json` holds
// the last entry's number and hash with an ed25519 signature. It lets `audit verify` notice entries
// cut off the end of the chain, which the links alone cannot show. The public key sits beside it
// (`audit-key.pub.pem`): copy it elsewhere to check heads exported from this host.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Head } from './audit-chain.js';

interface HeadFile extends Head {
  at: string;
  signature: string;
}

export class HeadSigner {
  private readonly key: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly file: string;

  constructor(home: string) {
    const keyFile = join(home, 'audit-key.pem');
    this.file = join(home, 'audit-head.json');
    if (!existsSync(keyFile)) {
      const { privateKey } = generateKeyPairSync('ed25519');
      writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    }
    this.key = createPrivateKey(readFileSync(keyFile));
    this.publicKey = createPublicKey(this.key);
    writeFileSync(
      join(home, 'audit-key.pub.pem'),
      this.publicKey.export({ type: 'spki', format: 'pem' }),
    );
  }

  write(head: Head): void {
    const signature = sign(null, message(head), this.key).toString('base64');
    const body: HeadFile = { ...head, at: new Date().toISOString(), signature };
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(body) + '\n', { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  /** The signed head, null when none was written yet; throws when its signature is wrong. */
  read(): Head | null {
    if (!existsSync(this.file)) return null;
    let body: HeadFile;
    try {
      body = JSON.parse(readFileSync(this.file, 'utf8')) as HeadFile;
    } catch {
      throw new Error(`${this.file} is not valid JSON`);
    }
    const head = { seq: body.seq, hash: body.hash };
    const ok =
      typeof body.signature === 'string' &&
      verify(null, message(head), this.publicKey, Buffer.from(body.signature, 'base64'));
    if (!ok) throw new Error(`the signature of ${this.file} does not verify`);
    return head;
  }
}

function message(head: Head): Buffer {
  return Buffer.from(`hotswap-audit-head\n${head.seq}\n${head.hash}\n`);
}
