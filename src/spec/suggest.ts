// "Did you mean" for unknown keys: most unknown keys are typos or case slips of a real one.

/** Edit distance (insertions, deletions, substitutions) between two strings. */
export function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The allowed key closest to an unknown one, if it is close enough to be a likely typo: at most
 * two edits and fewer edits than half the key's length (so "tcp" does not suggest "http").
 * Case is ignored, so "maxsurge" finds "maxSurge".
 */
export function didYouMean(unknown: string, allowed: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const key of allowed) {
    const distance = levenshtein(unknown.toLowerCase(), key.toLowerCase());
    if (best === undefined || distance < best.distance) best = { key, distance };
  }
  if (best === undefined) return undefined;
  return best.distance <= 2 && best.distance < unknown.length / 2 ? best.key : undefined;
}
