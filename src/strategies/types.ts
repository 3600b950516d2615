// A strategy is a pure function from (spec, rollout state) to the next step. The engine runs the
// step against the runtime and the router, observes the result, and asks again.

/** Instance counts the engine observes between steps. "ready" means healthy and in the proxy. */
export interface GroupCounts {
  desired: number;
  /** Ready instances of revisions other than the target. */
  old: number;
  /** Ready instances of the target revision. */
  next: number;
}

export type Step =
  | { kind: 'start'; count: number }
  | { kind: 'stop'; group: 'old' | 'next'; count: number }
  | { kind: 'done' };
