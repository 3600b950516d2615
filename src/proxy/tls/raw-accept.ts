// Accepted TCP handles taken before net.js wraps them in a net.Socket (for TLS connections served
// on their handles: tls-client.ts). A connection taken here still counts in its server as
// net.js counts its own: maxConnections refuses beyond the limit, and close() waits for the last
// connection, taken or not, before it reports the server closed (a listener's shut() and a
// self-upgrade's hand-over rely on that).
//
// This uses net.Server's internals (`_handle.onconnection`, `_connections`,
// `_emitCloseIfDrained`), unchanged since Node 0.x; takeAccepts() checks they are there and
// returns false when not, and the listener then serves TLS on tls.TLSSocket.
import type net from 'node:net';
import type { TcpHandle } from './tls-client.js';

type OnConnection = (this: unknown, err: number, handle: TcpHandle) => void;

interface ServerInternals {
  _handle: { onconnection?: OnConnection } | null;
  _connections?: number;
  _emitCloseIfDrained?: () => void;
  maxConnections?: number;
}

/**
 * Offers each connection `server` accepts to `take` first: `take` returns true when it took the
 * handle (and then calls `release` once, when the connection closes), false to leave it to
 * net.js.
 * Returns false, taking nothing, when this Node's net.Server lacks what this relies on.
 */
export function takeAccepts(
  server: net.Server,
  take: (handle: TcpHandle, release: () => void) => boolean,
): boolean {
  const internals = server as unknown as ServerInternals;
  const handle = internals._handle;
  const netOnConnection = handle?.onconnection;
  if (
    handle === null ||
    typeof netOnConnection !== 'function' ||
    typeof internals._connections !== 'number' ||
    typeof internals._emitCloseIfDrained !== 'function'
  ) {
    return false;
  }
  const release = (): void => {
    internals._connections!--;
    internals._emitCloseIfDrained!.call(server);
  };
  handle.onconnection = function (this: unknown, err: number, client: TcpHandle): void {
    if (err !== 0 && err !== undefined) {
      netOnConnection.call(this, err, client);
      return;
    }
    const max = internals.maxConnections;
    if (max !== undefined && max > 0 && internals._connections! >= max) {
      // Beyond the limit: net.js closes it (and emits 'drop').
      netOnConnection.call(this, err, client);
      return;
    }
    internals._connections!++;
    if (!take(client, release)) {
      internals._connections!--;
      netOnConnection.call(this, err, client);
    }
  };
  return true;
}
