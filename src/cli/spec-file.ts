import { existsSync, readFileSync } from 'node:fs';
import { HotswapError } from '../errors.js';
import { parseSpec } from '../spec/index.js';
import type { Spec } from '../spec/types.js';

export const DEFAULT_SPEC_FILE = 'hotswap.yaml';
/** Compose accepts both extensions; so does hotswap, preferring .yaml. */
const FALLBACK_SPEC_FILE = 'hotswap.yml';
export const SPEC_FILE_HELP = `spec file, "-" for stdin (default ${DEFAULT_SPEC_FILE}, else ${FALLBACK_SPEC_FILE})`;
const STDIN_NAME = '<stdin>';

/**
 * Reads and checks a spec file on the client side, so a bad file fails before the daemon is
 * involved, and ${VAR} substitution, envFile and relative volume paths use the caller's
 * environment and folder. The daemon is handed the checked spec, not the text to parse again.
 */
export function readSpecFile(file: string | undefined): { spec: Spec; file: string } {
  const name = file ?? defaultSpecFile();
  let text: string;
  try {
    text = readFileSync(name === '-' ? 0 : name, 'utf8');
  } catch (err) {
    throw new HotswapError(
      'SPEC_NOT_FOUND',
      `cannot read spec file ${name}: ${(err as Error).message}`,
    );
  }
  const shown = name === '-' ? STDIN_NAME : name;
  return { spec: parseSpec(text, shown), file: shown };
}

function defaultSpecFile(): string {
  if (existsSync(DEFAULT_SPEC_FILE) || !existsSync(FALLBACK_SPEC_FILE)) return DEFAULT_SPEC_FILE;
  return FALLBACK_SPEC_FILE;
}
