// The home holds the admin socket, the store (token digests, the audit chain) and the TLS key:
// whoever can write it can take the daemon over. The daemon refuses to start on an unsafe one,
// and `hotswap doctor` says so too (both through homeProblem).
import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { HotswapError } from '../errors.js';

/** Why an existing home is unsafe, and the fix; null when it is safe. */
export function homeProblem(home: string): { detail: string; fix: string } | null {
  const st = statSync(home);
  const uid = process.getuid?.();
  if (!st.isDirectory())
    return { detail: `the hotswap home ${home} is not a directory`, fix: 'pick another --home' };
  if (uid !== undefined && st.uid !== uid)
    return {
      detail: `the hotswap home ${home} belongs to uid ${st.uid}, not to ${userInfo().username} (uid ${uid}) who runs the daemon`,
      fix: `use a home of your own (--home or HOTSWAP_HOME) or chown it: chown -R ${uid} ${home}`,
    };
  if ((st.mode & 0o022) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
    return {
      detail: `the hotswap home ${home} has mode ${mode}: other users can write to it and could replace its socket, store or keys`,
      fix: `chmod 700 ${home}`,
    };
  }
  return null;
}

export function assertSafeHome(home: string): void {
  const problem = homeProblem(home);
  if (problem) throw new HotswapError('UNSAFE_HOME', `${problem.detail}; run: ${problem.fix}`);
}
