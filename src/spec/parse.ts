// hotswap.yaml text → Spec, or one SPEC_INVALID error that lists every problem with its
// file:line:col. Parsing keeps the YAML document (not just the plain data) so that problems
// found on the data can be pointed back at the text.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { HotswapError } from '../errors.js';
import { interpolateDocument, type Variables } from './interpolate.js';
import { formatPath, IssueFactory, specInvalid } from './issues.js';
import { SpecLocator } from './locate.js';
import { normalizeServices } from './normalize.js';
import { SERVICE_NAME_PATTERN, serviceSchema, specSchema, type RawService } from './schema.js';
import type { Spec, SpecIssue } from './types.js';
import { loadYaml } from './yaml-load.js';
import { attachDeclaredNetworks } from './networks.js';

export interface ParseOptions {
  /** Variables for ${VAR} substitution; default process.env. */
  vars?: Variables;
}

/** Parses and validates spec text; `file` is used for messages and to resolve relative paths. */
export function parseSpec(text: string, file: string, opts: ParseOptions = {}): Spec {
  // Syntax errors, keys written twice and failed substitutions make the data meaningless, so
  // they are reported alone.
  const loaded = loadYaml(text, file);
  if (Array.isArray(loaded)) throw specInvalid(file, loaded);
  const { doc, lines } = loaded;
  const issues = new IssueFactory(file, new SpecLocator(doc, lines));
  // Most specs have no "$" at all: then there is nothing to substitute and no walk to make.
  const problems = text.includes('$') ? interpolateDocument(doc, opts.vars ?? process.env) : [];
  if (problems.length > 0) {
    const found = problems.map((p): SpecIssue => ({
      file,
      ...lines.linePos(p.offset),
      path: formatPath(p.path),
      message: p.message,
    }));
    throw specInvalid(file, found);
  }

  let data: unknown;
  try {
    data = withoutExtensions(doc.toJS());
  } catch (err) {
    // e.g. an alias bomb, which yaml refuses to expand
    const message = `invalid YAML: ${err instanceof Error ? err.message : String(err)}`;
    throw specInvalid(file, [issues.at([], message)]);
  }

  const result = specSchema.safeParse(data, { reportInput: true });
  const found: SpecIssue[] = result.success ? [] : issues.fromZod(result.error.issues);
  const services = result.success ? Object.entries(result.data.services) : validServices(data);
  const normalized = normalizeServices(services, dirname(file), issues);
  found.push(...normalized.issues);
  const listed = new Map(services.map(([name, raw]) => [name, raw.networks]));
  const declared = result.success ? result.data.networks : undefined;
  found.push(...attachDeclaredNetworks(normalized.services, listed, declared, issues));

  if (found.length > 0) throw specInvalid(file, found);
  return { file, services: normalized.services };
}

/** Reads and parses a spec file; SPEC_NOT_FOUND when it cannot be read. */
export async function loadSpec(file: string, opts: ParseOptions = {}): Promise<Spec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw notFound(file, err);
  }
  return parseSpec(text, file, opts);
}

function notFound(file: string, err: unknown): HotswapError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' || code === 'ENOTDIR'
      ? 'no such file'
      : code === 'EISDIR'
        ? 'it is a directory'
        : code === 'EACCES'
          ? 'permission denied'
          : String((err as Error).message);
  const message = `cannot read spec file ${file} (${resolve(file)}): ${why}`;
  return new HotswapError('SPEC_NOT_FOUND', message, { details: { file, code }, cause: err });
}

const isExtension = (key: string) => key.startsWith('x-');

/**
 * "x-" keys at the top and in each service are Compose's extension fields: a place for anchors
 * (x-defaults: &defaults) and for other tools' settings. They are dropped before validation.
 */
function withoutExtensions(data: unknown): unknown {
  if (!isRecord(data)) return data;
  const root = dropKeys(data);
  const services = root['services'];
  if (isRecord(services)) {
    root['services'] = Object.fromEntries(
      Object.entries(services).map(([name, s]) => [name, isRecord(s) ? dropKeys(s) : s]),
    );
  }
  return root;
}

function dropKeys(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !isExtension(key)));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * When the spec as a whole is invalid, the services that are valid on their own are still
 * normalized, so that cross-field and cross-service problems (duplicate listen, maxSurge and
 * maxUnavailable both 0) show up in the same report instead of after the first fix.
 */
function validServices(data: unknown): Array<[string, RawService]> {
  const services = (data as { services?: unknown } | null)?.services;
  if (typeof services !== 'object' || services === null || Array.isArray(services)) return [];
  const namePattern = new RegExp(SERVICE_NAME_PATTERN);
  const valid: Array<[string, RawService]> = [];
  for (const [name, raw] of Object.entries(services)) {
    const parsed = serviceSchema.safeParse(raw);
    if (namePattern.test(name) && parsed.success) valid.push([name, parsed.data]);
  }
  return valid;
}
