// Proxy listener addresses: "host:port" where host is IPv4, [IPv6] or localhost.
import { isIPv4, isIPv6 } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

/** The host and port of a listen address, or a short reason why it is not one. */
export function parseListen(text: string): ListenAddress | string {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return 'no ":port"';
  const rawHost = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) return `port "${portText}" is not a number`;
  const port = Number(portText);
  if (port < 1 || port > 65535) return `port ${port} is outside 1..65535`;
  const host = hostOf(rawHost);
  return typeof host === 'string' ? { host, port } : host.reason;
}

function hostOf(raw: string): string | { reason: string } {
  if (raw === 'localhost' || isIPv4(raw)) return raw;
  if (raw.startsWith('[') && raw.endsWith(']') && isIPv6(raw.slice(1, -1))) return raw;
  if (isIPv6(raw)) return { reason: 'an IPv6 host must be written in brackets, e.g. [::1]:8080' };
  return { reason: `host "${raw}" is not an IPv4 address, [IPv6] address or localhost` };
}

/**
 * Whether two listeners would fight over the same socket. localhost is 127.0.0.1 here, and a
 * wildcard host (0.0.0.0, [::]) takes the port on every address, so it clashes with any other
 * host on the same port.
 */
export function listenersClash(a: ListenAddress, b: ListenAddress): boolean {
  if (a.port !== b.port) return false;
  const hostA = canonicalHost(a.host);
  const hostB = canonicalHost(b.host);
  return hostA === hostB || isWildcard(hostA) || isWildcard(hostB);
}

function canonicalHost(host: string): string {
  return host === 'localhost' ? '127.0.0.1' : host;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '[::]';
}
