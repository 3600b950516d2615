// The home holds the admin socket, the store (token digests, the audit chain) and the TLS key:
// whoever can write it can take the daemon over. The daemon refuses to start on an unsafe one.
import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { HotswapError } from '../errors.js';

export function assertSafeHome(home: string): void {
  const st = statSync(home);
  const uid = process.getuid?.();
  if (!st.isDirectory())
    throw new HotswapError('UNSAFE_HOME', `the hotswap home ${home} is not a directory`);
  if (uid !== undefined && st.uid !== uid) {
    throw new HotswapError(
      'UNSAFE_HOME',
      `the hotswap home ${home} belongs to uid ${st.uid}, not to ${userInfo().username} (uid ${uid}) who runs the daemon; ` +
        `use a home of your own (--home or HOTSWAP_HOME) or chown it`,
    );
  }
  if ((st.mode & 0o022) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
    throw new HotswapError(
      'UNSAFE_HOME',
      `the hotswap home ${home} has mode ${mode}: other users can write to it and could replace ` +
        `its socket, store or keys; run: chmod 700 ${home}`,
    );
  }
}
