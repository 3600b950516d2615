// The one map from API route to permission. The API enforces it for every request (a route with
// no rule is refused to any token), the role table in README.md is generated from it, and a test
// enumerates the API's routes and fails on any route without a rule.
import { ROLES, roleAllows, type Permission } from './roles.js';

/** Where a deployer's service scope is checked: a URL parameter, or the services of a spec body. */
export type ServiceSource = { param: string } | 'spec-body';

export interface RouteRule {
  method: 'GET' | 'POST';
  /** Path as registered with hono, e.g. `/v1/services/:name/rollback`. */
  path: string;
  permission: Permission;
  /** Set for calls that change something: they are appended to the audit chain. */
  verb?: string;
  services?: ServiceSource;
  what: string;
}

const SERVICE = { param: 'name' } as const;

export const ROUTE_RULES: readonly RouteRule[] = [
  {
    method: 'GET',
    path: '/v1/health',
    permission: 'public',
    what: 'liveness and version (no token)',
  },
  { method: 'GET', path: '/v1/services', permission: 'read', what: 'status' },
  { method: 'GET', path: '/v1/services/:name/history', permission: 'read', what: 'history' },
  { method: 'GET', path: '/v1/services/:name/logs', permission: 'read', what: 'logs' },
  { method: 'GET', path: '/v1/services/:name/rollout', permission: 'read', what: 'rollout status' },
  { method: 'GET', path: '/v1/services/:name/report', permission: 'read', what: 'report' },
  {
    method: 'GET',
    path: '/v1/services/:name/availability',
    permission: 'read',
    what: 'availability',
  },
  { method: 'GET', path: '/v1/alerts', permission: 'read', what: 'alerts' },
  { method: 'GET', path: '/v1/proxy', permission: 'read', what: 'proxy status' },
  { method: 'GET', path: '/v1/journal', permission: 'read', what: 'journal events' },
  // POSTs that change nothing (a long read through the NDJSON client, a dry run)
  { method: 'POST', path: '/v1/services/:name/logs/follow', permission: 'read', what: 'logs -f' },
  { method: 'POST', path: '/v1/plan', permission: 'read', what: 'up --dry-run, diff' },
  {
    method: 'POST',
    path: '/v1/apply',
    permission: 'deploy',
    verb: 'up',
    services: 'spec-body',
    what: 'up (create, update, scale)',
  },
  {
    method: 'POST',
    path: '/v1/services/:name/rollback',
    permission: 'deploy',
    verb: 'rollback',
    services: SERVICE,
    what: 'rollback',
  },
  {
    method: 'POST',
    path: '/v1/services/:name/scale',
    permission: 'deploy',
    verb: 'scale',
    services: SERVICE,
    what: 'scale',
  },
  {
    method: 'POST',
    path: '/v1/services/:name/restart',
    permission: 'deploy',
    verb: 'restart',
    services: SERVICE,
    what: 'restart',
  },
  {
    method: 'POST',
    path: '/v1/services/:name/reload',
    permission: 'deploy',
    verb: 'reload',
    services: SERVICE,
    what: 'reload (files in place)',
  },
  {
    method: 'POST',
    path: '/v1/services/:name/rollout/:action',
    permission: 'deploy',
    verb: 'rollout',
    services: SERVICE,
    what: 'promote, abort, pause, resume',
  },
  { method: 'POST', path: '/v1/down', permission: 'admin', verb: 'down', what: 'down' },
  {
    method: 'POST',
    path: '/v1/proxy/upgrade',
    permission: 'admin',
    verb: 'proxy.upgrade',
    what: 'proxy upgrade',
  },
  {
    method: 'POST',
    path: '/v1/shutdown',
    permission: 'admin',
    verb: 'shutdown',
    what: 'stop the daemon',
  },
  { method: 'GET', path: '/v1/tokens', permission: 'admin', what: 'token list' },
  {
    method: 'POST',
    path: '/v1/tokens',
    permission: 'admin',
    verb: 'token.create',
    what: 'token create',
  },
  {
    method: 'POST',
    path: '/v1/tokens/:id/revoke',
    permission: 'admin',
    verb: 'token.revoke',
    what: 'token revoke',
  },
  { method: 'GET', path: '/v1/audit', permission: 'admin', what: 'audit' },
  { method: 'GET', path: '/v1/audit/verify', permission: 'admin', what: 'audit verify' },
  { method: 'GET', path: '/v1/policy', permission: 'read', what: 'policy show' },
  {
    method: 'POST',
    path: '/v1/policy',
    permission: 'admin',
    verb: 'policy.set',
    what: 'policy set',
  },
];

interface Compiled {
  rule: RouteRule;
  pattern: RegExp;
  params: string[];
}

function compile(rule: RouteRule): Compiled {
  const params: string[] = [];
  const source = rule.path
    .split('/')
    .map((part) => {
      if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(part.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { rule, pattern: new RegExp(`^${source}/?$`), params };
}

const COMPILED = ROUTE_RULES.map(compile);

/** The rule for a request, with its path parameters; null when no rule matches (deny). */
export function matchRule(
  method: string,
  path: string,
): { rule: RouteRule; params: Record<string, string> } | null {
  for (const c of COMPILED) {
    if (c.rule.method !== method) continue;
    const m = c.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    c.params.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1]!)));
    return { rule: c.rule, params };
  }
  return null;
}

export function findRule(method: string, path: string): RouteRule | undefined {
  return ROUTE_RULES.find((r) => r.method === method && r.path === path);
}

/** The endpoint × role table (markdown), as README.md shows it. */
export function roleTable(): string {
  const cell = (r: RouteRule, role: (typeof ROLES)[number]): string => {
    if (!roleAllows(role, r.permission)) return 'no';
    return r.permission === 'deploy' && role === 'deployer' && r.services ? 'its services' : 'yes';
  };
  const rows = ROUTE_RULES.map((r) => [
    `\`${r.method} ${r.path}\``,
    r.what,
    ...ROLES.map((role) => cell(r, role)),
    r.verb ? 'yes' : 'no',
  ]);
  const header = ['endpoint', 'what', ...ROLES, 'audited'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
