// ${VAR} substitution in spec values, with Compose's rules: $VAR and ${VAR}; ${VAR:-default}
// (unset or empty) and ${VAR-default} (unset); ${VAR:?message} and ${VAR?message} (an error);
// ${VAR:+alternative} and ${VAR+alternative}; "$$" is a literal "$". Unlike Compose, an unset
// variable with no default is an error, not an empty string: "web:${TAG}" with TAG unset would
// otherwise pull "web:". Keys are never substituted, values are, before validation, so a
// substituted value is checked like a written one.
import { parse as parseYamlScalar, Scalar, visit, type Document } from 'yaml';
import { nodePath } from './locate.js';

export type Variables = Readonly<Record<string, string | undefined>>;

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;

/** Why a value could not be substituted, with the offset of the "$" inside it. */
export class InterpolationError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** The text with every variable replaced; InterpolationError on an unset one or bad syntax. */
export function interpolate(text: string, vars: Variables): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) return out + text.slice(i);
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
    } else if (next === '{') {
      const close = matchingBrace(text, dollar + 2);
      if (close < 0) throw new InterpolationError('"${" is never closed by "}"', dollar);
      out += braced(text.slice(dollar + 2, close), vars, dollar);
      i = close + 1;
    } else {
      const name = NAME.exec(text.slice(dollar + 1))?.[0];
      if (name === undefined) {
        throw new InterpolationError(
          'a "$" not followed by a variable name; write "$$" for a literal "$"',
          dollar,
        );
      }
      out += valueOf(name, vars, dollar);
      i = dollar + 1 + name.length;
    }
  }
  return out;
}

// The "}" closing a "${" at `from`, skipping nested ${…} in defaults.
function matchingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '{' && text[i - 1] === '$') depth++;
    else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function braced(body: string, vars: Variables, offset: number): string {
  const name = NAME.exec(body)?.[0];
  if (name === undefined)
    throw new InterpolationError(`"\${${body}}" does not start with a variable name`, offset);
  const rest = body.slice(name.length);
  if (rest === '') return valueOf(name, vars, offset);
  const op = /^(:?[-?+])/.exec(rest)?.[1];
  if (op === undefined)
    throw new InterpolationError(
      `"\${${body}}": expected ":-", "-", ":?", "?", ":+" or "+" after ${name}`,
      offset,
    );
  const arg = rest.slice(op.length);
  const value = vars[name];
  const unset = value === undefined || (op.startsWith(':') && value === '');
  switch (op.at(-1)) {
    case '-':
      return unset ? interpolate(arg, vars) : (value ?? '');
    case '+':
      return unset ? '' : interpolate(arg, vars);
    default: {
      if (!unset) return value ?? '';
      const why =
        arg === ''
          ? `variable ${name} is ${value === '' ? 'empty' : 'not set'}`
          : `${name}: ${arg}`;
      throw new InterpolationError(why, offset);
    }
  }
}

function valueOf(name: string, vars: Variables, offset: number): string {
  const value = vars[name];
  if (value === undefined) {
    throw new InterpolationError(
      `variable ${name} is not set; set it or write \${${name}:-default}`,
      offset,
    );
  }
  return value;
}

/** A problem found while substituting, at a character offset of the spec text. */
export interface InterpolationProblem {
  offset: number;
  path: PropertyKey[];
  message: string;
}

/**
 * Substitutes every string value in the document in place. An unquoted value that becomes a
 * number or boolean ("port: ${PORT}") is read as one, as Compose does for typed fields.
 */
export function interpolateDocument(doc: Document, vars: Variables): InterpolationProblem[] {
  const problems: InterpolationProblem[] = [];
  visit(doc, {
    Scalar(key, node, ancestry) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return;
      try {
        const text = interpolate(node.value, vars);
        node.value = node.type === Scalar.PLAIN ? retype(text) : text;
        // env keeps a number as written ("1.10") by reading the node's source: make it the
        // substituted text, not "${VERSION}".
        node.source = text;
      } catch (err) {
        if (!(err instanceof InterpolationError)) throw err;
        problems.push({
          offset: offsetIn(node, err.offset),
          path: nodePath(ancestry, node),
          message: err.message,
        });
      }
    },
  });
  return problems;
}

function retype(text: string): unknown {
  if (!/^[-+.\w]+$/.test(text)) return text;
  const value: unknown = parseYamlScalar(text);
  return typeof value === 'number' || typeof value === 'boolean' ? value : text;
}

// Where the failing "$" is in the file: exact for plain values, the value's start otherwise.
function offsetIn(node: Scalar, inValue: number): number {
  const start = node.range?.[0] ?? 0;
  const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE ? 1 : 0;
  return node.type === Scalar.PLAIN || quoted === 1 ? start + quoted + inValue : start;
}
