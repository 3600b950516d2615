// Cookie headers, as the proxy reads them for sticky splits and forced revisions.

/** The value of cookie `name` in a Cookie header (quotes removed), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let from = 0;
  for (;;) {
    const at = header.indexOf(name, from);
    if (at < 0) return undefined;
    const end = at + name.length;
    let before = at - 1;
    while (before >= 0 && (header.charCodeAt(before) === 32 || header.charCodeAt(before) === 9)) {
      before--;
    }
    if ((before < 0 || header.charCodeAt(before) === 59) && header.charCodeAt(end) === 61) {
      let stop = header.indexOf(';', end + 1);
      if (stop < 0) stop = header.length;
      let value = header.slice(end + 1, stop).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
        value = value.slice(1, -1);
      }
      return value;
    }
    from = end;
  }
}

/** A Cookie header without cookie `name`; null when nothing is left. */
export function withoutCookie(header: string, name: string): string | null {
  const kept = header.split(';').filter((pair) => {
    const eq = pair.indexOf('=');
    return eq < 0 || pair.slice(0, eq).trim() !== name;
  });
  const out = kept
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .join('; ');
  return out === '' ? null : out;
}
