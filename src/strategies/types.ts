// A strategy is a pure function from (spec, rollout state) to the next step. The engine runs the
// step against the runtime and the router, observes the result, and asks again.
import type { AnalysisRun } from '../spec/types.js';

/** Instance counts the engine observes between steps. "ready" means healthy and in the proxy. */
export interface GroupCounts {
  desired: number;
  /** Ready instances of revisions other than the target. */
  old: number;
  /** Ready instances of the target revision. */
  next: number;
  /** True when new instances joined since the last analysis (rolling with analysis). */
  unjudged?: boolean;
}

export type Step =
  /** Start this many instances of the target; weights follow instance counts. */
  | { kind: 'start'; count: number }
  | { kind: 'stop'; group: 'old' | 'next'; count: number }
  /** Bring the target group up to at least this many ready instances (no weight change). */
  | { kind: 'scale'; replicas: number }
  /** Percent of the service's traffic on the target revision. */
  | { kind: 'setWeight'; weight: number }
  /** Wait this long, or until promoted when null. */
  | { kind: 'pause'; durationMs: number | null }
  | { kind: 'analysis'; run: AnalysisRun; source: 'service' | 'preview' }
  /** Expose the target group on the preview listener (blue-green). */
  | { kind: 'preview' }
  /** All traffic to the target; the old group is parked warm or retired. */
  | { kind: 'promote' }
  | { kind: 'done' };
