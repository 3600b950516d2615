// Ranking with ties, the first step of any rank test. Tied values share the mean of the ranks
// they span (mid-ranks), and the tie group sizes are kept because the variance of U shrinks
// with ties and the normal approximation must be corrected for it.

export interface RankResult {
  /** ranks[i] is the (mid-)rank, 1-based, of values[i]. */
  ranks: number[];
  /** Size of every group of equal values with more than one member. */
  tieSizes: number[];
}

export function midRanks(values: readonly number[]): RankResult {
  const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Array<number>(values.length);
  const tieSizes: number[] = [];
  let start = 0;
  while (start < order.length) {
    let end = start + 1;
    while (end < order.length && values[order[end]!] === values[order[start]!]) end++;
    // Positions start..end-1 (0-based) hold ranks start+1..end; their mean is the mid-rank.
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]!] = rank;
    if (end - start > 1) tieSizes.push(end - start);
    start = end;
  }
  return { ranks, tieSizes };
}
