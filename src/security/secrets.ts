// Env values read from files when an instance starts. The revision recorded only each file's
// sha256: a file that changed since then would make the instance differ from its revision, so it
// is refused (a new `up` makes a new revision with the new secret).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HotswapError } from '../errors.js';
import type { SecretEnvSpec } from '../spec/types.js';

export function readSecretEnv(
  secrets: Record<string, SecretEnvSpec> | undefined,
  where: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, s] of Object.entries(secrets ?? {})) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(s.file);
    } catch (err) {
      throw new HotswapError(
        'USAGE',
        `${where}: env ${key}: cannot read the secret file ${s.file}: ${(err as Error).message}`,
      );
    }
    if (createHash('sha256').update(bytes).digest('hex') !== s.sha256)
      throw new HotswapError(
        'CONFLICT',
        `${where}: env ${key}: ${s.file} changed since this revision was made; run up again to make a revision with it`,
      );
    out[key] = bytes.toString('utf8').replace(/\r?\n$/, ''); // a trailing newline is the editor's
  }
  return out;
}
