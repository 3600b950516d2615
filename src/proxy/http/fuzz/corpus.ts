// The cases of one fuzz run: every seed family first (they are the regression cases: each one
// broke a proxy somewhere, several broke this one), then `random` mutated cases from `seed`.
import { FAMILY_NAMES, prng, randomCase, seedCase, type FuzzCase } from './cases.js';

export function* corpus(random: number, seed: number): Generator<FuzzCase> {
  let id = 0;
  for (const family of FAMILY_NAMES) yield seedCase(id++, family);
  const r = prng(seed);
  for (let i = 0; i < random; i++) yield randomCase(id++, r);
}
