// envFile: environment variables kept in a file next to the spec, in the format Compose's
// env_file and docker's --env-file read: NAME=value per line, "#" comments, blank lines, an
// optional "export " prefix, and values in single (literal) or double (with \n escapes) quotes.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

const LINE = /^(?:export\s+)?([^=\s#]+)\s*=\s*(.*)$/;

/** The variables of an env file, or why it cannot be used ("web.env:3: …"). */
export function readEnvFile(file: string, specDir: string): Record<string, string> | string {
  const path = isAbsolute(file) ? file : resolve(specDir, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`;
  }
  return parseEnvText(text, file);
}

/** NAME=value lines → variables; the first bad line is reported as "name:line: reason". */
export function parseEnvText(text: string, name: string): Record<string, string> | string {
  const vars: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match)
      return `${name}:${i + 1}: expected NAME=value, found ${JSON.stringify(line.slice(0, 40))}`;
    const value = unquote(match[2] ?? '');
    if (value === null) return `${name}:${i + 1}: the quoted value of ${match[1]} is not closed`;
    vars[match[1] ?? ''] = value;
  }
  return vars;
}

function unquote(raw: string): string | null {
  const quote = raw[0];
  if (quote === '"' || quote === "'") {
    const end = raw.indexOf(quote, 1);
    if (end < 0) return null;
    const inner = raw.slice(1, end);
    return quote === "'" ? inner : inner.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
  }
  // An unquoted value ends at a " #" comment, as in Compose.
  return raw.replace(/\s+#.*$/, '');
}
