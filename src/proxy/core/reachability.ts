// Is an instance's host still there? A node cut off keeps the connections the proxy had to it,
// and the requests sent on them wait for an answer that will not come until the client gives
// up. Node gives no TCP_USER_TIMEOUT (the kernel would see the unacknowledged bytes), so the
// proxy asks the host itself: when an instance with requests in flight has finished none for a
// whole tick, one TCP connect is tried. Any host that is up answers a SYN at once (an app slow
// to answer its requests does not delay its kernel), so a connect that gets no answer within
// PROBE_MS means unreachable: what may move, moves (lost.ts). A refused connect means the host
// is up and the process gone: its connections are reset, and the reset path deals with that.
import net from 'node:net';
import { SilenceWatch } from './silence.js';

/** How long a stalled instance's connect may take before its host counts as unreachable. */
export const PROBE_MS = 1000;

/** Every instance's completions, checked once a second: one interval for the whole proxy. */
export const stallWatch = new SilenceWatch(1000);

/** Resolves false when a connect to host:port got no answer within timeoutMs (or the route is gone). */
export function hostAnswers(host: string, port: number, timeoutMs = PROBE_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (answered: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(!['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN'].includes(err.code ?? '')),
    );
  });
}
