// Spec text → YAML document, with the checks that must come before the data is looked at: the
// size cap, one document per file, syntax errors, and keys written twice. The yaml library's own
// duplicate-key check compares every key with every other (quadratic: minutes for a 5 MB spec),
// so it is turned off and done here with one Set per mapping.
import {
  isMap,
  isScalar,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type YAMLError,
} from 'yaml';
import { formatPath } from './issues.js';
import { nodePath } from './locate.js';
import type { SpecIssue } from './types.js';

/** A spec is configuration, not data: anything larger is refused before it is parsed. */
export const MAX_SPEC_BYTES = 8 * 1024 * 1024;

export interface LoadedYaml {
  doc: Document;
  lines: LineCounter;
}

/** The parsed document, or the issues that make its data meaningless. */
export function loadYaml(text: string, file: string): LoadedYaml | SpecIssue[] {
  const size = Buffer.byteLength(text, 'utf8');
  if (size > MAX_SPEC_BYTES) {
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
    const message = `the file is ${mib(size)}, above the ${mib(MAX_SPEC_BYTES)} limit for a spec; keep data in volumes or an envFile`;
    return [{ file, line: 1, col: 1, path: '', message }];
  }
  const lines = new LineCounter();
  // merge: `<<: *defaults` merge keys, as Compose files use them to share settings.
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: false,
    merge: true,
  });
  const at = (offset: number) => lines.linePos(offset);
  if (doc.errors.length > 0) return syntaxIssues(text, file, doc.errors, at);
  return duplicateKeys(doc, file, at) ?? { doc, lines };
}

/**
 * One syntax error per line: the parser's later complaints on a line follow from its first.
 * `${…}` inside a flow mapping ({ A: ${X} }) reads as a nested mapping; say so.
 */
function syntaxIssues(
  text: string,
  file: string,
  errors: readonly YAMLError[],
  at: (offset: number) => { line: number; col: number },
): SpecIssue[] {
  const lines = new Set<number>();
  const issues: SpecIssue[] = [];
  const source = text.split('\n');
  for (const error of errors) {
    const issue = syntaxIssue(file, error, at);
    if (lines.has(issue.line)) continue;
    lines.add(issue.line);
    if (/[{[][^\n]*\$\{/.test(source[issue.line - 1] ?? '')) {
      issue.message += '; a ${…} value inside { } or [ ] must be quoted: A: "${X}"';
    }
    issues.push(issue);
  }
  return issues;
}

function syntaxIssue(
  file: string,
  error: YAMLError,
  at: (offset: number) => { line: number; col: number },
): SpecIssue {
  const { line, col } = at(error.pos[0]);
  const message =
    error.code === 'MULTIPLE_DOCS'
      ? 'a second YAML document starts here ("---"); a spec is one document, so put every service under one "services:" key'
      : `invalid YAML: ${error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '')}`;
  return { file, line, col, path: '', message };
}

function duplicateKeys(
  doc: Document,
  file: string,
  at: (offset: number) => { line: number; col: number },
): SpecIssue[] | null {
  const found: SpecIssue[] = [];
  visit(doc, {
    Map(_, map, ancestry) {
      if (!isMap(map)) return;
      let where: string | undefined;
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (key === '<<') continue; // several merge keys are allowed
        if (seen.has(key)) {
          const { line, col } = at(pair.key.range?.[0] ?? 0);
          where ??= formatPath(nodePath(ancestry, map));
          const path = where === '' ? key : `${where}.${key}`;
          const message = `"${key}" is written twice in the same mapping; the second would silently win`;
          found.push({ file, line, col, path, message });
        }
        seen.add(key);
      }
    },
  });
  return found.length > 0 ? found : null;
}
