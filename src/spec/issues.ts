// Turns zod's issues into SpecIssues: a file:line:col, a dotted path and one readable sentence.
// Relies on the convention in schema.ts that an issue's zod message is the "expected …" phrase.
import { isScalar } from 'yaml';
import type { z } from 'zod';
import { HotswapError } from '../errors.js';
import type { SpecLocator } from './locate.js';
import { allowedKeysAt } from './schema.js';
import { composeHint } from './compose-hints.js';
import { didYouMean } from './suggest.js';
import type { SpecIssue } from './types.js';

type ZodIssue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/** Builds issues at positions in one file. */
export class IssueFactory {
  constructor(
    readonly file: string,
    readonly locate: SpecLocator,
  ) {}

  /** An issue at a path; `where` picks the value, its key, or the mapping that should hold it. */
  at(
    path: Path,
    message: string,
    where: 'value' | 'key' | 'parent' = 'value',
    extra: { expected?: string; found?: string } = {},
  ): SpecIssue {
    const { line, col } = this.locate[where](path);
    return { file: this.file, line, col, path: formatPath(path), message, ...extra };
  }

  /** Every SpecIssue for a list of zod issues (one zod issue may name several unknown keys). */
  fromZod(issues: readonly ZodIssue[], prefix: Path = []): SpecIssue[] {
    return issues.flatMap((issue) => this.fromOneZod(issue, [...prefix, ...issue.path]));
  }

  private fromOneZod(issue: ZodIssue, path: Path): SpecIssue[] {
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((key) => this.unknownKey(path, key));
      case 'invalid_key':
        return [this.invalidKey(path, issue.issues[0]?.message ?? issue.message)];
      case 'invalid_union': {
        // A required field of several shapes (a duration: number or text) that is not there.
        if (issue.input === undefined) return [this.missing(path, issue.message)];
        // Report inside the one branch whose shape matched (an env mapping with a bad value
        // should say which value), rather than "matched no alternative" for the whole field.
        // A branch that does not know one of the written keys is not the one meant either.
        const shaped = issue.errors.filter((branch) => !branch.some(isRootTypeMismatch));
        const known = shaped.filter((branch) => !branch.some(isRootUnknownKey));
        const matched = known.length > 0 ? known : shaped;
        if (matched.length === 1 && matched[0]) return this.fromZod(matched[0], path);
        return [this.mismatch(path, issue)];
      }
      case 'invalid_type':
        if (issue.input === undefined) return [this.missing(path, issue.message)];
        return [this.mismatch(path, issue)];
      default:
        return [this.mismatch(path, issue)];
    }
  }

  private unknownKey(parent: Path, key: string): SpecIssue {
    const allowed = allowedKeysAt(parent);
    // A key allowed here in another form (a canary step's setWeight) is no typo of itself.
    const suggestion = allowed.includes(key) ? undefined : didYouMean(key, allowed);
    const compose = composeHint(parent, key);
    const hint = compose
      ? `: ${compose}`
      : suggestion
        ? ` — did you mean "${suggestion}"?`
        : ` (allowed: ${allowed.join(', ')})`;
    return this.at([...parent, key], `unknown field "${key}"${hint}`, 'key', {
      expected: allowed.length > 0 ? `one of ${allowed.join(', ')}` : 'no other fields',
      found: key,
    });
  }

  private invalidKey(path: Path, expected: string): SpecIssue {
    const found = renderFound(String(path.at(-1)));
    return this.at(path, `expected ${expected}, found ${found}`, 'key', { expected, found });
  }

  private missing(path: Path, expected: string): SpecIssue {
    const name = String(path.at(-1));
    return this.at(path, `missing required field "${name}" (expected ${expected})`, 'parent', {
      expected,
    });
  }

  private mismatch(path: Path, issue: ZodIssue): SpecIssue {
    const expected = issue.message;
    const found = renderFound(issue.input);
    const reason =
      issue.code === 'custom' ? (issue.params?.['reason'] as string | undefined) : undefined;
    const because = reason === undefined ? '' : ` (${reason})`;
    const out = this.at(path, `expected ${expected}, found ${found}${because}`, 'value', {
      expected,
      found,
    });
    const offset: unknown = issue.code === 'custom' ? issue.params?.['offset'] : undefined;
    if (typeof offset === 'number') out.col += this.columnInside(path, offset);
    return out;
  }

  /**
   * Columns from a string value's start to the character at `offset` in it (a check that knows
   * where in the text the problem is, like an alert's `when`); 0 when the value spans lines.
   */
  private columnInside(path: Path, offset: number): number {
    const node = this.locate.node(path);
    if (!isScalar(node) || typeof node.value !== 'string') return 0;
    if (node.type === 'PLAIN') return offset;
    // A quoted value starts after its quote (escapes before the offset would shift it: rare).
    return node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? offset + 1 : 0;
  }
}

function isRootTypeMismatch(issue: ZodIssue): boolean {
  return issue.path.length === 0 && issue.code === 'invalid_type';
}

function isRootUnknownKey(issue: ZodIssue): boolean {
  return issue.path.length === 0 && issue.code === 'unrecognized_keys';
}

/** services.web.volumes[1] style, the way people point at a field in a YAML file. */
export function formatPath(path: Path): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text;
}

/** A short rendering of an offending value: scalars as written, collections by their kind. */
export function renderFound(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') {
    const short = value.length > 40 ? `${value.slice(0, 39)}…` : value;
    return JSON.stringify(short);
  }
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object' && value !== null) {
    return Object.keys(value).length === 0 ? 'an empty mapping' : 'a mapping';
  }
  return typeof value; // YAML yields nothing else, but the input type is unknown
}

/** Issues in reading order, so the first one shown is the first one in the file. */
export function sortIssues(issues: SpecIssue[]): SpecIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
}

/** One line per issue: "hotswap.yaml:7:14 services.web.replicas: expected …, found …". */
export function formatIssue(issue: SpecIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.col}`;
  return issue.path === ''
    ? `${where} ${issue.message}`
    : `${where} ${issue.path}: ${issue.message}`;
}

/** The SPEC_INVALID error for a set of issues; the list itself travels in details.issues. */
export function specInvalid(file: string, issues: SpecIssue[]): HotswapError {
  const sorted = sortIssues(issues);
  const count = sorted.length === 1 ? '1 problem' : `${sorted.length} problems`;
  const message = [
    `${file} is not a valid hotswap spec (${count}):`,
    ...sorted.map(formatIssue),
  ].join('\n');
  return new HotswapError('SPEC_INVALID', message, { details: { issues: sorted } });
}
