import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { HotswapError } from '../errors.js';
import { parseSpec } from '../spec/index.js';
import type { Spec } from '../spec/types.js';

export const DEFAULT_SPEC_FILE = 'hotswap.yaml';

/** Reads and checks a spec file on the client side, so a bad file fails before the daemon is involved. */
export function readSpecFile(file: string): { spec: Spec; text: string; absolute: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new HotswapError(
      'SPEC_NOT_FOUND',
      `cannot read spec file ${file}: ${(err as Error).message}`,
    );
  }
  return { spec: parseSpec(text, file), text, absolute: resolve(file) };
}
