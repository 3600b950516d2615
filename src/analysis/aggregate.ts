// Repeated measurements: an analysis step judges the canary once per interval and decides from
// all the verdicts so far, with Argo Rollouts' semantics: the run fails as soon as the number of
// failed measurements exceeds failureLimit (so failureLimit 0 fails on the first failure), and
// it succeeds once enough intervals passed. Inconclusive intervals count for neither; the caller
// bounds how long it keeps measuring.
import { HotswapError } from '../errors.js';
import type { CheckResult, Verdict } from './judge.js';

export interface AggregateVerdict {
  result: CheckResult;
  passed: number;
  failed: number;
  inconclusive: number;
  reason: string;
}

export function aggregate(
  verdicts: readonly Pick<Verdict, 'result'>[],
  failureLimit: number,
  requiredPasses = 1,
): AggregateVerdict {
  if (
    !Number.isInteger(failureLimit) ||
    failureLimit < 0 ||
    !Number.isInteger(requiredPasses) ||
    requiredPasses < 1
  ) {
    throw new HotswapError('USAGE', 'failureLimit must be an integer >= 0 and requiredPasses >= 1');
  }
  const count = (r: CheckResult): number => verdicts.filter((v) => v.result === r).length;
  const tally = {
    passed: count('pass'),
    failed: count('fail'),
    inconclusive: count('inconclusive'),
  };
  if (tally.failed > failureLimit) {
    return {
      result: 'fail',
      ...tally,
      reason: `${tally.failed} failed measurements > failureLimit ${failureLimit}`,
    };
  }
  if (tally.passed >= requiredPasses) {
    return {
      result: 'pass',
      ...tally,
      reason: `${tally.passed} of ${requiredPasses} required measurements passed`,
    };
  }
  return {
    result: 'inconclusive',
    ...tally,
    reason:
      `${tally.passed} of ${requiredPasses} required measurements passed so far ` +
      `(${tally.failed} failed, limit ${failureLimit}; ${tally.inconclusive} inconclusive)`,
  };
}
