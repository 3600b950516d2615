// `<home>/config.yaml`: the daemon's own settings (not a deployer's spec). This module reads the
// `api` section (remote listener) and `policy.allowedHostPaths`; other keys are left to their
// owners.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { HotswapError } from '../errors.js';
import { parseListen, type ListenAddress } from '../spec/listen.js';
import { SpecLocator } from '../spec/locate.js';
import type { ContainerPolicy } from './container-policy.js';

const ApiSection = z.strictObject({
  listen: z.string({ error: 'expected an address like "127.0.0.1:7443"' }),
  tls: z
    .strictObject({
      cert: z.string({ error: 'expected a path to a PEM certificate' }),
      key: z.string({ error: 'expected a path to a PEM private key' }),
    })
    .optional(),
});
const PolicySection = z.looseObject({
  allowedHostPaths: z
    .array(z.string().startsWith('/', 'expected an absolute path'), {
      error: 'expected a list of absolute paths',
    })
    .optional(),
});
const ConfigFile = z.looseObject({ api: ApiSection.optional(), policy: PolicySection.optional() });

export interface RemoteApiConfig {
  listen: ListenAddress;
  /** Absolute paths; null = generate a self-signed certificate in the home. */
  tls: { cert: string; key: string } | null;
}

export interface DaemonConfig {
  file: string;
  api: RemoteApiConfig | null;
  containerPolicy: ContainerPolicy;
}

/** Reads `<home>/config.yaml` (absent = defaults); errors name file:line:col and the field. */
export function loadConfig(home: string): DaemonConfig {
  const file = join(home, 'config.yaml');
  if (!existsSync(file)) return { file, api: null, containerPolicy: { allowedHostPaths: [] } };
  const text = readFileSync(file, 'utf8');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const locate = new SpecLocator(doc, lines);
  const problem = (path: PropertyKey[], message: string): string => {
    const { line, col } = locate.value(path);
    return `${file}:${line}:${col} ${path.join('.') || '(document)'}: ${message}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const { line, col } = lines.linePos(e.pos[0]);
    throw invalid(file, [`${file}:${line}:${col} invalid YAML: ${e.message.split('\n')[0]}`]);
  }
  const parsed = ConfigFile.safeParse(doc.toJS() ?? {});
  if (!parsed.success)
    throw invalid(
      file,
      parsed.error.issues.map((i) => problem(i.path, i.message)),
    );
  const containerPolicy = {
    allowedHostPaths: parsed.data.policy?.allowedHostPaths ?? [],
  };
  const api = parsed.data.api;
  if (!api) return { file, api: null, containerPolicy };
  const listen = parseListen(api.listen);
  if (typeof listen === 'string') throw invalid(file, [problem(['api', 'listen'], listen)]);
  const abs = (p: string): string => (isAbsolute(p) ? p : join(home, p));
  return {
    file,
    api: { listen, tls: api.tls ? { cert: abs(api.tls.cert), key: abs(api.tls.key) } : null },
    containerPolicy,
  };
}

function invalid(file: string, problems: string[]): HotswapError {
  return new HotswapError(
    'USAGE',
    `${file} is not a valid hotswap config:\n${problems.join('\n')}`,
  );
}
