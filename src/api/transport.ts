// Which listener a request came in on. The unix socket (mode 0600) is its owner's, so admin;
// anything else must show a token. A request that does not say is treated as remote.
import type { IncomingMessage } from 'node:http';
import type { Context, Hono } from 'hono';

export type Transport = 'local' | 'remote';

interface ApiEnv {
  transport?: Transport;
  incoming?: IncomingMessage;
}

/** The fetch handler for one listener: tags every request with the listener's transport. */
export function servedOver(
  app: Hono,
  transport: Transport,
): (req: Request, env?: object) => Response | Promise<Response> {
  return (req, env) => app.fetch(req, { ...(env ?? {}), transport });
}

export function transportOf(c: Context): Transport {
  return (c.env as ApiEnv | undefined)?.transport === 'local' ? 'local' : 'remote';
}

/** `unix`, or the caller's `ip:port`. */
export function sourceOf(c: Context): string {
  if (transportOf(c) === 'local') return 'unix';
  const socket = (c.env as ApiEnv | undefined)?.incoming?.socket;
  if (!socket?.remoteAddress) return 'unknown';
  const ip = socket.remoteAddress.includes(':')
    ? `[${socket.remoteAddress}]`
    : socket.remoteAddress;
  return `${ip}:${socket.remotePort}`;
}
