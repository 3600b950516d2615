// Every request passes here first: find the route's rule (src/security/rules.ts), check the
// caller (unix socket owner = admin; otherwise a bearer token with a role and a service scope),
// then append calls that change something, and every refusal, to the audit chain.
import { createHash } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { HotswapError, toHotswapError } from '../errors.js';
import { matchRule, roleAllows, type RouteRule, type Security } from '../security/index.js';
import { parse as parseYaml } from 'yaml';
import { canonicalJson } from '../spec/index.js';
import type { Store, TokenRecord } from '../store/index.js';
import { imageDigests, outcomeText } from './audit-outcome.js';
import { streamOutcome } from './ndjson.js';
import { sourceOf, transportOf } from './transport.js';

interface Call {
  actor: string;
  verb: string;
  /** null: a call that names services, but they could not be told from it. */
  services: string[] | null;
  specHash: string | null;
  source: string;
}

export function authMiddleware(security: Security, store: Store): MiddlewareHandler {
  return async (c, next) => {
    const match = matchRule(c.req.method, c.req.path);
    const local = transportOf(c) === 'local';
    // Fail closed: a remote caller reaches no route the rule map does not name.
    if (!match && !local)
      throw new HotswapError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`);
    if (!match || match.rule.permission === 'public') return next();
    const { rule, params } = match;
    const call: Call = {
      actor: local ? security.localActor : 'anonymous',
      verb: verbOf(rule, params, c.req.method),
      services: [],
      specHash: null,
      source: sourceOf(c),
    };
    try {
      await describeTarget(c, rule, params, call);
      if (!local) checkToken(security, c, rule, call);
    } catch (err) {
      const e = toHotswapError(err);
      if (e.code === 'UNAUTHENTICATED' || e.code === 'FORBIDDEN')
        record(security, call, `denied ${e.status}: ${e.message}`, null);
      throw e;
    }
    c.set('actor', call.actor);
    await next();
    if (rule.verb) await recordOutcome(security, store, c, call);
  };
}

/** Authenticates the bearer token and checks its role and service scope; throws 401 or 403. */
function checkToken(security: Security, c: Context, rule: RouteRule, call: Call): void {
  const header = c.req.header('authorization');
  if (!header)
    throw new HotswapError(
      'UNAUTHENTICATED',
      'this API needs a token: pass --token or set HOTSWAP_TOKEN',
    );
  const bearer = /^Bearer (\S+)$/i.exec(header)?.[1];
  if (!bearer) throw new HotswapError('UNAUTHENTICATED', 'malformed Authorization header');
  const token = security.tokens.authenticate(bearer);
  call.actor = `token:${token.name}`;
  if (!roleAllows(token.role, rule.permission))
    throw new HotswapError(
      'FORBIDDEN',
      `token "${token.name}" (${token.role}) may not ${rule.what}: it needs the ${neededRole(rule)} role`,
    );
  checkScope(token, rule, call.services);
}

function checkScope(token: TokenRecord, rule: RouteRule, services: string[] | null): void {
  if (token.role !== 'deployer' || token.services === null || !rule.services) return;
  if (services === null)
    throw new HotswapError(
      'FORBIDDEN',
      `token "${token.name}" may change only ${token.services.join(', ')}, and this call's services cannot be told from its body`,
    );
  const outside = services.filter((s) => !token.services!.includes(s));
  if (outside.length > 0)
    throw new HotswapError(
      'FORBIDDEN',
      `token "${token.name}" may change only ${token.services.join(', ')}, not ${outside.join(', ')}`,
    );
}

function verbOf(rule: RouteRule, params: Record<string, string>, method: string): string {
  if (!rule.verb) return `${method} ${rule.path}`;
  return params.action ? `${rule.verb}.${params.action}` : rule.verb;
}

/** A few words the audit entry's outcome gets after "ok" (what was created, revoked, set). */
export function auditDetail(c: Context, detail: string): void {
  c.set('auditDetail', detail);
}

/** Who made the call, as the audit names them (set by authMiddleware). */
export function actorOf(c: Context): string {
  return (c.get('actor') as string | undefined) ?? 'anonymous';
}

function neededRole(rule: RouteRule): string {
  return rule.permission === 'read'
    ? 'viewer'
    : rule.permission === 'deploy'
      ? 'deployer'
      : 'admin';
}

/**
 * Fills in the services a call touches and, for `up`, a hash of the spec it sent. The body is
 * either spec text (`{ file, text, service? }`) or a spec the CLI already checked
 * (`{ spec: { file, services: [{ name, … }] }, service? }`). When the services cannot be told,
 * they stay null and a scoped token is refused (fail closed).
 */
async function describeTarget(
  c: Context,
  rule: RouteRule,
  params: Record<string, string>,
  call: Call,
): Promise<void> {
  if (rule.services && rule.services !== 'spec-body') {
    call.services = [params[rule.services.param]!];
    return;
  }
  if (rule.services !== 'spec-body') return;
  call.services = null;
  let body: { file?: unknown; text?: unknown; spec?: unknown; service?: unknown };
  try {
    body = JSON.parse(await c.req.text()) as typeof body;
  } catch {
    return; // the handler answers 400 for the body
  }
  if (typeof body.text === 'string') {
    call.specHash = `sha256:${createHash('sha256').update(body.text).digest('hex')}`;
    call.services = servicesOfText(body.text);
  } else if (typeof body.spec === 'object' && body.spec !== null) {
    call.specHash = `sha256:${createHash('sha256').update(canonicalJson(body.spec)).digest('hex')}`;
    call.services = servicesOfChecked(body.spec);
  }
  if (typeof body.service === 'string') call.services = [body.service];
}

/** The service names of spec text: YAML only, so nothing is read or substituted for the scope. */
function servicesOfText(text: string): string[] | null {
  try {
    const services = (parseYaml(text) as { services?: unknown } | null)?.services;
    if (typeof services !== 'object' || services === null || Array.isArray(services)) return null;
    return Object.keys(services);
  } catch {
    return null; // a bad spec is refused by the handler before anything changes
  }
}

function servicesOfChecked(spec: { services?: unknown }): string[] | null {
  if (!Array.isArray(spec.services)) return null;
  const names = spec.services.map((s) => (s as { name?: unknown } | null)?.name);
  return names.every((n): n is string => typeof n === 'string') ? names : null;
}

async function recordOutcome(
  security: Security,
  store: Store,
  c: Context,
  call: Call,
): Promise<void> {
  const stream = streamOutcome(c.res);
  if (stream) {
    // Recorded when the operation ends, even if the client hangs up first.
    void stream.then((o) =>
      record(security, call, outcomeText(o), 'result' in o ? imageDigests(store, o.result) : null),
    );
    return;
  }
  if (c.res.status < 400) {
    const body = await c.res.clone().json();
    const detail = c.get('auditDetail') as string | undefined;
    record(security, call, detail ? `ok: ${detail}` : 'ok', imageDigests(store, body));
    return;
  }
  const err = (await c.res
    .clone()
    .json()
    .catch(() => ({}))) as { code?: string; message?: string };
  record(security, call, `error ${err.code ?? c.res.status}: ${err.message ?? ''}`, null);
}

function record(security: Security, call: Call, outcome: string, imageDigest: string | null): void {
  security.audit.append({
    actor: call.actor,
    verb: call.verb,
    service: call.services?.length ? call.services.join(',') : null,
    specHash: call.specHash,
    imageDigest,
    source: call.source,
    outcome,
  });
}
