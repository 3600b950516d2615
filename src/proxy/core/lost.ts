// An instance found unreachable (ejected after failed connects: its node was cut off, say) keeps
// its kept-alive upstream connections open, and the requests already sent on them wait for an
// answer that never comes, until the client gives up. The proxy cuts those it may move (see
// movableOnLoss in http/policy.ts) with LOST_CODE, and their engine sends them once more to
// another instance, as it does after a reset on a reused connection.
import { LOST_CODE } from '../http/policy.js';

/** An exchange in flight on an upstream connection, as the loss of its instance sees it. */
export interface InFlightOnUpstream {
  /** The policy's movableOnLoss() for this exchange now. */
  movableOnLoss(): boolean;
}

/** Tags an upstream ClientRequest (full path) with its exchange. */
export const kUpstreamExchange = Symbol('hotswap.exchange');

/** The error a moved exchange fails with; `reason` is the page's when it cannot move. */
export function lostError(reason: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(reason);
  err.code = LOST_CODE;
  return err;
}
