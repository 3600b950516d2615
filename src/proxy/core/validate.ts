// Checks for everything that enters the proxy from outside: control request bodies and the
// persisted table. Each failure names the field, so a caller can fix the exact value.
import { HotswapError } from '../../errors.js';
import { inSubnet, ipv4, parseCidr } from './subnet.js';
import type {
  Backend,
  DrainOptions,
  LongConnections,
  ProxyMode,
  RouteTable,
  ServiceConfig,
  ServiceRoute,
  OverrideConfig,
  PrivateListener,
  StickyConfig,
  TlsConfig,
} from '../types.js';

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

/**
 * Where backends may be: `local` (the default), on this host only, so the proxy never sends
 * traffic elsewhere; `private`, also private IPv4 addresses (RFC 1918), for a proxy task on a
 * Swarm whose instances are task IPs on an overlay network (issue 17).
 */
export type BackendScope = 'local' | 'private';
let backendScope: BackendScope = 'local';

export function setBackendScope(scope: BackendScope): void {
  backendScope = scope;
}

const PRIVATE_V4 = /^(10\.\d{1,3}|172\.(1[6-9]|2\d|3[01])|192\.168)\.\d{1,3}\.\d{1,3}$/;

/**
 * An IPv4 "host:port". Where a backend may be is `backendAllowed`'s decision, checked against the
 * service by the registry: 127.0.0.1, one of its private networks (bridges on this host), or on
 * a Swarm any private address.
 */
export function backendAddress(value: unknown, field = 'address'): string {
  const m = typeof value === 'string' ? /^(\d{1,3}(?:\.\d{1,3}){3}):(\d+)$/.exec(value) : null;
  if (m === null || ipv4(m[1]!) === null) throw rejected(field, 'must be "127.0.0.1:port"');
  port(m[2]!, field);
  return value as string;
}

/**
 * 127.0.0.1, or inside one of the service's private subnets, or (a proxy task on a Swarm) any
 * private IPv4 address; else the proxy refuses it.
 */
export function backendAllowed(address: string, privates: PrivateListener[]): boolean {
  const host = address.slice(0, address.lastIndexOf(':'));
  if (host === '127.0.0.1' || privates.some((p) => inSubnet(host, p.subnet))) return true;
  return backendScope === 'private' && PRIVATE_V4.test(host);
}

function privateInput(value: unknown, field: string): PrivateListener[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > 64)
    throw rejected(field, 'must be an array of at most 64 { listen, subnet }');
  return value.map((item: unknown, i: number) => {
    const body = requireObject(item, `${field}.${i}`);
    const { host } = parseListen(body.listen, `${field}.${i}.listen`);
    if (ipv4(host) === null) throw rejected(`${field}.${i}.listen`, 'host must be an IPv4 address');
    if (typeof body.subnet !== 'string' || parseCidr(body.subnet) === null)
      throw rejected(`${field}.${i}.subnet`, 'must be an IPv4 CIDR like "172.18.0.0/16"');
    return { listen: body.listen as string, subnet: body.subnet };
  });
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

export const DEFAULT_LONG_CONNECTIONS: Readonly<LongConnections> = Object.freeze({
  policy: 'keep',
  timeoutMs: 30_000,
});
export const DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024;
/** Longest stats window: the per-second counters cover one hour. */
export const MAX_WINDOW_MS = 3_600_000;

/** A service's config with every default filled in: what the live state and the table hold. */
export interface ServiceSettings {
  listen: string;
  mode: ProxyMode;
  /** Lowercase; empty when the service takes any host. */
  hosts: string[];
  /** Without a trailing "/"; '' when the service takes any path. */
  pathPrefix: string;
  sticky: StickyConfig | null;
  /** Header name lowercase. */
  override: OverrideConfig | null;
  tls: TlsConfig | null;
  longConnections: LongConnections;
  maxBodyBytes: number;
  maxConnections: number;
  maxLongMs: number;
  tcpIdleMs: number;
  /** Private networks it answers on by name (issue 16); [] when none. */
  private: PrivateListener[];
}

const HOST = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;

export function longConnectionsInput(value: unknown, field = 'longConnections'): LongConnections {
  const body = requireObject(value, field);
  if (body.policy !== 'keep' && body.policy !== 'close') {
    throw rejected(`${field}.policy`, 'must be "keep" or "close"');
  }
  return { policy: body.policy, timeoutMs: timeoutInput(body.timeoutMs, `${field}.timeoutMs`) };
}

function stickyInput(value: unknown, field: string, none = 'no stickiness'): StickyConfig | null {
  if (value === undefined || value === null) return null;
  const body = requireObject(value, field);
  const out: StickyConfig = {};
  if (body.cookie !== undefined) {
    if (typeof body.cookie !== 'string' || !TOKEN.test(body.cookie)) {
      throw rejected(`${field}.cookie`, 'must be a cookie name (token characters)');
    }
    out.cookie = body.cookie;
  }
  if (body.header !== undefined) {
    if (typeof body.header !== 'string' || !TOKEN.test(body.header)) {
      throw rejected(`${field}.header`, 'must be a header name (token characters)');
    }
    out.header = body.header.toLowerCase();
  }
  if (out.cookie === undefined && out.header === undefined) {
    throw rejected(field, `needs a cookie or a header name (or null for ${none})`);
  }
  return out;
}

function overrideInput(value: unknown, field: string): OverrideConfig | null {
  if (value === undefined || value === null) return null;
  const body = requireObject(value, field);
  const names = stickyInput({ cookie: body.cookie, header: body.header }, field, 'no override')!;
  const out: OverrideConfig = { ...names };
  if (body.secret !== undefined) {
    if (typeof body.secret !== 'string' || !/^[\x21-\x7e]{16,256}$/.test(body.secret)) {
      throw rejected(`${field}.secret`, 'must be 16 to 256 visible ASCII characters');
    }
    out.secret = body.secret;
  }
  return out;
}

/** A whole number >= 0 (0 when absent: no limit). */
function countInput(value: unknown, field: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw rejected(field, 'must be an integer >= 0 (0: no limit)');
  }
  return value;
}

function tlsInput(value: unknown, field: string): TlsConfig | null {
  if (value === undefined || value === null) return null;
  const body = requireObject(value, field);
  const path = (key: 'cert' | 'key'): string => {
    const v = body[key];
    if (typeof v !== 'string' || !v.startsWith('/')) {
      throw rejected(`${field}.${key}`, 'must be an absolute path to a PEM file');
    }
    return v;
  };
  const out: TlsConfig = { cert: path('cert'), key: path('key') };
  if (body.hstsMaxAge !== undefined) {
    const age = body.hstsMaxAge;
    if (typeof age !== 'number' || !Number.isSafeInteger(age) || age < 0) {
      throw rejected(`${field}.hstsMaxAge`, 'must be a whole number of seconds >= 0');
    }
    out.hstsMaxAge = age;
  }
  if (body.hstsIncludeSubDomains !== undefined) {
    if (typeof body.hstsIncludeSubDomains !== 'boolean') {
      throw rejected(`${field}.hstsIncludeSubDomains`, 'must be true or false');
    }
    out.hstsIncludeSubDomains = body.hstsIncludeSubDomains;
  }
  if (body.redirect !== undefined) {
    parseListen(body.redirect, `${field}.redirect`);
    out.redirect = body.redirect as string;
  }
  return out;
}

function hostsInput(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > 256) {
    throw rejected(field, 'must be an array of at most 256 host names');
  }
  const out: string[] = [];
  value.forEach((h: unknown, i: number) => {
    const host = typeof h === 'string' ? h.toLowerCase() : '';
    if (host.length > 253 || !HOST.test(host)) {
      throw rejected(`${field}.${i}`, 'must be a host name ("example.com") or "*.example.com"');
    }
    if (!out.includes(host)) out.push(host);
  });
  return out;
}

function pathPrefixInput(value: unknown, field: string): string {
  if (value === undefined || value === null) return '';
  if (
    typeof value !== 'string' ||
    !value.startsWith('/') ||
    value.length > 1024 ||
    /[\s?#]/.test(value)
  ) {
    throw rejected(field, 'must be a path starting with "/" (no spaces, "?" or "#")');
  }
  let prefix = value;
  while (prefix.endsWith('/')) prefix = prefix.slice(0, -1);
  return prefix;
}

/** The body of PUT /services/:svc (and a stored route): a ServiceConfig, defaults filled in. */
export function serviceConfigInput(value: unknown, field = 'body'): ServiceSettings {
  const body = requireObject(value, field);
  const prefix = field === 'body' ? '' : `${field}.`;
  parseListen(body.listen, `${prefix}listen`);
  const mode = body.mode ?? 'http';
  if (mode !== 'http' && mode !== 'tcp') throw rejected(`${prefix}mode`, 'must be "http" or "tcp"');
  const settings: ServiceSettings = {
    listen: body.listen as string,
    mode,
    hosts: hostsInput(body.hosts, `${prefix}hosts`),
    pathPrefix: pathPrefixInput(body.pathPrefix, `${prefix}pathPrefix`),
    sticky: stickyInput(body.sticky, `${prefix}sticky`),
    override: overrideInput(body.override, `${prefix}override`),
    tls: tlsInput(body.tls, `${prefix}tls`),
    longConnections:
      body.longConnections === undefined
        ? { ...DEFAULT_LONG_CONNECTIONS }
        : longConnectionsInput(body.longConnections, `${prefix}longConnections`),
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    maxConnections: countInput(body.maxConnections, `${prefix}maxConnections`),
    maxLongMs: countInput(body.maxLongMs, `${prefix}maxLongMs`),
    tcpIdleMs: countInput(body.tcpIdleMs, `${prefix}tcpIdleMs`),
    private: privateInput(body.private, `${prefix}private`),
  };
  if (body.maxBodyBytes !== undefined) {
    const max = body.maxBodyBytes;
    if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 0) {
      throw rejected(`${prefix}maxBodyBytes`, 'must be an integer >= 0');
    }
    settings.maxBodyBytes = max;
  }
  if (mode === 'tcp') {
    const routed = settings.sticky !== null || settings.override !== null || settings.tls !== null;
    if (settings.hosts.length > 0 || settings.pathPrefix !== '' || routed) {
      throw rejected(
        `${prefix}mode`,
        'a tcp service cannot have hosts, pathPrefix, sticky, override or tls',
      );
    }
  }
  return settings;
}

/** The config as the table shows it: unset rules are left out. */
export function settingsToConfig(s: ServiceSettings): ServiceConfig & {
  mode: ProxyMode;
  longConnections: LongConnections;
  maxBodyBytes: number;
} {
  const out: ServiceConfig & {
    mode: ProxyMode;
    longConnections: LongConnections;
    maxBodyBytes: number;
  } = {
    listen: s.listen,
    mode: s.mode,
    longConnections: { ...s.longConnections },
    maxBodyBytes: s.maxBodyBytes,
  };
  if (s.hosts.length > 0) out.hosts = [...s.hosts];
  if (s.pathPrefix !== '') out.pathPrefix = s.pathPrefix;
  if (s.sticky !== null) out.sticky = { ...s.sticky };
  if (s.override !== null) out.override = { ...s.override };
  if (s.tls !== null) out.tls = { ...s.tls };
  if (s.maxConnections > 0) out.maxConnections = s.maxConnections;
  if (s.maxLongMs > 0) out.maxLongMs = s.maxLongMs;
  if (s.tcpIdleMs > 0) out.tcpIdleMs = s.tcpIdleMs;
  if (s.private.length > 0) out.private = s.private.map((p) => ({ ...p }));
  return out;
}

/** The body of POST /services/:svc/backends/:id/drain. */
export function drainInput(value: unknown): { timeoutMs: number } & DrainOptions {
  const body = requireObject(value, 'body');
  const timeoutMs = timeoutInput(body.timeoutMs);
  const out: { timeoutMs: number } & DrainOptions = { timeoutMs };
  if (body.longConnections !== undefined && body.longConnections !== null)
    out.longConnections = longConnectionsInput(body.longConnections);
  if (body.unhealthy !== undefined) {
    if (typeof body.unhealthy !== 'boolean') throw rejected('unhealthy', 'must be true or false');
    out.unhealthy = body.unhealthy;
  }
  return out;
}

export function windowInput(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  const n = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_WINDOW_MS)) {
    throw rejected('windowMs', `must be an integer of milliseconds between 1 and ${MAX_WINDOW_MS}`);
  }
  return n;
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
    const settings = serviceConfigInput(route, field);
    if (!Array.isArray(route.backends)) throw rejected(`${field}.backends`, 'must be an array');
    const backends: Backend[] = route.backends.map((b: unknown, i: number) => {
      const backend = backendInput(b, `${field}.backends.${i}`);
      if (!backendAllowed(backend.address, settings.private))
        throw rejected(`${field}.backends.${i}.address`, 'must be "127.0.0.1:port"');
      const state = (b as Record<string, unknown>).state;
      if (state !== 'active' && state !== 'draining') {
        throw rejected(`${field}.backends.${i}.state`, 'must be "active" or "draining"');
      }
      return { ...backend, state };
    });
    const svc: ServiceRoute = {
      ...settingsToConfig(settings),
      weights: weightsInput(route.weights, `${field}.weights`),
      backends,
    };
    out.services[name] = svc;
  }
  return out;
}
