// YAML settings files (config.yaml, policy.yaml) checked against a zod schema; every problem is
// reported as file:line:col and the field, like a spec's.
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { HotswapError } from '../errors.js';
import { SpecLocator } from '../spec/locate.js';

export interface YamlDoc<T> {
  data: T;
  /** "file:line:col field: message" for a field, for checks made after the schema's. */
  problem: (path: PropertyKey[], message: string) => string;
}

export function parseYamlDoc<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  kind: string,
): YamlDoc<z.output<S>> {
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
    throw invalidDoc(file, kind, [
      `${file}:${line}:${col} invalid YAML: ${e.message.split('\n')[0]}`,
    ]);
  }
  let raw: unknown;
  try {
    raw = doc.toJS() ?? {};
  } catch (err) {
    throw invalidDoc(file, kind, [`${file}: invalid YAML: ${(err as Error).message}`]);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw invalidDoc(
      file,
      kind,
      parsed.error.issues.map((i) => problem(i.path, i.message)),
    );
  return { data: parsed.data, problem };
}

export function invalidDoc(file: string, kind: string, problems: string[]): HotswapError {
  return new HotswapError('USAGE', `${file} is not a valid ${kind}:\n${problems.join('\n')}`, {
    details: { problems },
  });
}
