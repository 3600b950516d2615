// Checks for everything that enters the proxy from outside: control request bodies and the
// persisted table. Each failure names the field, so a caller can fix the exact value.
import { HotswapError } from '../errors.js';
import type { Backend, RouteTable, ServiceRoute } from './types.js';

export function rejected(field: string, message: string): HotswapError {
  return new HotswapError('PROXY_REJECTED', `${field}: ${message}`, { details: { field } });
}

/** A valid request that clashes with the live state (address in use, id reused differently). */
export function conflict(field: string, message: string, cause?: unknown): HotswapError {
  return new HotswapError('CONFLICT', `${field}: ${message}`, { details: { field }, cause });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (!isObject(value)) throw rejected(field, 'must be a JSON object');
  return value;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function serviceName(value: unknown, field = 'service'): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw rejected(field, 'must be 1-128 letters, digits, "_", "." or "-", starting alphanumeric');
  }
  return value;
}

function port(text: string, field: string): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 65535)) throw rejected(field, `port must be 1-65535, got "${text}"`);
  return n;
}

export interface ListenAddress {
  host: string;
  port: number;
}

/** host:port, with an IPv6 host in brackets ([::]:8080). */
export function parseListen(value: unknown, field = 'listen'): ListenAddress {
  if (typeof value !== 'string') throw rejected(field, 'must be a string "host:port"');
  const colon = value.lastIndexOf(':');
  if (colon <= 0) throw rejected(field, `must be "host:port", got "${value}"`);
  let host = value.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '' || /[\s/[\]]/.test(host)) throw rejected(field, `bad host in "${value}"`);
  return { host, port: port(value.slice(colon + 1), field) };
}

/** Backends live on this host only: the proxy never sends traffic elsewhere. */
export function backendAddress(value: unknown, field = 'address'): string {
  if (typeof value !== 'string' || !value.startsWith('127.0.0.1:')) {
    throw rejected(field, 'must be "127.0.0.1:port"');
  }
  port(value.slice('127.0.0.1:'.length), field);
  return value;
}

export function backendInput(value: unknown, field = 'body'): Omit<Backend, 'state'> {
  const body = requireObject(value, field);
  const prefix = field === 'body' ? '' : `${field}.`;
  if (typeof body.id !== 'string' || body.id === '' || body.id.length > 256) {
    throw rejected(`${prefix}id`, 'must be a non-empty string (at most 256 characters)');
  }
  if (
    typeof body.revision !== 'number' ||
    !Number.isSafeInteger(body.revision) ||
    body.revision < 1
  ) {
    throw rejected(`${prefix}revision`, 'must be an integer >= 1');
  }
  const address = backendAddress(body.address, `${prefix}address`);
  return { id: body.id, revision: body.revision, address };
}

/** Revision number (as a string key) → non-negative integer weight. */
export function weightsInput(value: unknown, field = 'weights'): Record<string, number> {
  const weights = requireObject(value, field);
  const out: Record<string, number> = {};
  for (const [key, weight] of Object.entries(weights)) {
    if (!/^[1-9]\d{0,15}$/.test(key))
      throw rejected(`${field}.${key}`, 'key must be a revision number >= 1');
    if (typeof weight !== 'number' || !Number.isSafeInteger(weight) || weight < 0) {
      throw rejected(`${field}.${key}`, 'must be an integer >= 0');
    }
    out[key] = weight;
  }
  return out;
}

export function timeoutInput(value: unknown, field = 'timeoutMs'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 86_400_000) {
    throw rejected(field, 'must be a number of milliseconds between 0 and 86400000');
  }
  return value;
}

/** A persisted table, checked field by field; throws on the first bad one. */
export function routeTable(value: unknown): RouteTable {
  const body = requireObject(value, 'table');
  if (body.version !== 1) throw rejected('table.version', 'must be 1');
  const services = requireObject(body.services, 'table.services');
  const out: RouteTable = { version: 1, services: {} };
  for (const [name, raw] of Object.entries(services)) {
    const field = `table.services.${name}`;
    serviceName(name, field);
    const route = requireObject(raw, field);
    const listen = route.listen;
    parseListen(listen, `${field}.listen`);
    if (!Array.isArray(route.backends)) throw rejected(`${field}.backends`, 'must be an array');
    const backends: Backend[] = route.backends.map((b: unknown, i: number) => {
      const backend = backendInput(b, `${field}.backends.${i}`);
      const state = (b as Record<string, unknown>).state;
      if (state !== 'active' && state !== 'draining') {
        throw rejected(`${field}.backends.${i}.state`, 'must be "active" or "draining"');
      }
      return { ...backend, state };
    });
    const svc: ServiceRoute = {
      listen: listen as string,
      weights: weightsInput(route.weights, `${field}.weights`),
      backends,
    };
    out.services[name] = svc;
  }
  return out;
}
