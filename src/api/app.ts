// The daemon's HTTP API (served on a unix socket). Thin: validate input, call the controller.
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { MAX_APPLY_PARALLEL, type Controller, type RolloutAction } from '../controller/index.js';
import { HotswapError, toHotswapError } from '../errors.js';
import type { LogRequest } from '../runtime/index.js';
import type { Store } from '../store/index.js';
import type { ProxyPlane } from '../daemon/backend.js';
import { readBody } from './body.js';
import { followResponse, ndjsonResponse } from './ndjson.js';
import { redactEnv, preflightServices, REFUSED_EVENT, type Security } from '../security/index.js';
import { authMiddleware } from './auth.js';
import { registerSecurityRoutes } from './security-routes.js';
import { registerReportRoutes } from './report-routes.js';
import { registerAlertRoutes, type AlertSource } from './alert-routes.js';
import { checkedSpec, specOf } from './apply-spec.js';

export interface ApiDeps {
  controller: Controller;
  proxy: Pick<ProxyPlane, 'client' | 'upgrade'>;
  store: Store;
  security: Security;
  /** For preflight hooks: the image's digest when it is on the host. */
  inspectImage?: (image: string) => Promise<{ id: string; repoDigest: string | null }>;
  version: string;
  shutdown: (opts: { proxy: boolean }) => void;
  /** The alert loop's live rule states (issue 15). */
  alerts?: AlertSource;
}

// The CLI sends the spec it has already checked (substituted with the caller's variables and
// envFiles, paths resolved in the caller's folder), so the daemon does not parse it again; other
// clients may send the text.
const CheckedSpec = z.looseObject({
  file: z.string().min(1),
  services: z.array(z.looseObject({ name: z.string().min(1), image: z.string().min(1) })),
});
// How many services an `up` rolls at once (`up --parallel`); the controller's default when absent.
const Parallel = z.number().int().min(1).max(MAX_APPLY_PARALLEL).optional();
const ApplyBody = z.union([
  z.strictObject({
    file: z.string().min(1),
    text: z.string(),
    service: z.string().optional(),
    parallel: Parallel,
  }),
  z.strictObject({ spec: CheckedSpec, service: z.string().optional(), parallel: Parallel }),
]);
const FollowBody = z.strictObject({
  tail: z.number().int().min(0).optional(),
  since: z.number().min(0).optional(),
  timestamps: z.boolean().optional(),
});
const RollbackBody = z.strictObject({ to: z.number().int().positive().optional() });
const DownBody = z.strictObject({ service: z.string().optional() });
const ScaleBody = z.strictObject({ replicas: z.number().int().min(0).max(1000) });
const ROLLOUT_ACTIONS: RolloutAction[] = ['promote', 'promote-full', 'abort', 'pause', 'resume'];
const ShutdownBody = z.strictObject({ proxy: z.boolean().optional() });

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const tooLarge = (c: Context): Response =>
  c.json({ code: 'USAGE', message: `request body over ${MAX_BODY_BYTES} bytes` }, 413);

/** tail, since (unix seconds) and timestamps from the query; errors name the field. */
function logRequest(q: Record<string, string>): LogRequest {
  const tail = Number(q['tail'] ?? '100');
  if (!Number.isInteger(tail) || tail < 0)
    throw new HotswapError('USAGE', 'API field "tail": expected a non-negative integer');
  const since = q['since'] === undefined ? undefined : Number(q['since']);
  if (since !== undefined && !(Number.isFinite(since) && since >= 0))
    throw new HotswapError('USAGE', 'API field "since": expected unix seconds');
  return { tail, since, timestamps: q['timestamps'] === '1' };
}

export function createApi(deps: ApiDeps): Hono {
  const { controller, store } = deps;
  const app = new Hono();

  app.onError((err, c) => {
    const e = toHotswapError(err);
    return c.json(e.toJSON(), e.status as 400);
  });
  app.notFound((c) =>
    c.json({ code: 'NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}` }, 404),
  );
  // Before any route: a bounded body (the remote API is reachable by anyone who can connect),
  // then who may call what (src/security/rules.ts) and the audit chain.
  app.use('*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge }));
  app.use('*', authMiddleware(deps.security, store));

  app.get('/v1/health', (c) => c.json({ ok: true, pid: process.pid, version: deps.version }));

  app.post('/v1/apply', async (c) => {
    const body = await readBody(c, ApplyBody);
    // a bad spec is a plain 400 before anything starts; so is one the policies refuse
    const spec = checkedSpec(c, body, deps.security);
    const targets = spec.services.filter(
      (s) => body.service === undefined || s.name === body.service,
    );
    await deps.security.images.enforce(targets);
    return ndjsonResponse(async (report) => {
      // Before any instance starts: a blocking failure ends the call with the old revision serving.
      await preflightServices(targets, deps.inspectImage, { store, report });
      return controller.apply(spec, body.service, report, body.parallel);
    });
  });

  app.post('/v1/plan', async (c) => {
    const body = await readBody(c, ApplyBody);
    const spec = specOf(c, body, deps.security);
    return c.json({ plans: await controller.plan(spec, body.service) });
  });

  app.get('/v1/services', async (c) =>
    c.json({
      ...redactEnv({ services: await controller.status() }),
      storeWarning: controller.storeWarning(),
    }),
  );

  app.get('/v1/services/:name/history', (c) => {
    const name = c.req.param('name');
    const refusals = store.journal
      .list({ service: name, limit: 1_000_000 })
      .filter((e) => e.event === REFUSED_EVENT)
      .map((e) => ({ at: e.at, ...(e.data as { image: string; reason: string }) }));
    return c.json(redactEnv({ ...controller.history(name), refusals }));
  });

  app.get('/v1/services/:name/logs', async (c) => {
    const opts = logRequest(c.req.query());
    return c.json({ logs: await controller.logs(c.req.param('name'), opts) });
  });

  // logs -f: a POST so that the CLI's NDJSON client reads it like any long operation.
  app.post('/v1/services/:name/logs/follow', async (c) => {
    const body = await readBody(c, FollowBody);
    const opts = logRequest({
      tail: String(body.tail ?? 100),
      ...(body.since === undefined ? {} : { since: String(body.since) }),
      timestamps: body.timestamps ? '1' : '0',
    });
    const name = c.req.param('name');
    return followResponse(c.req.raw.signal, (signal, emit) =>
      controller.followLogs(name, opts, signal, (line) => emit({ type: 'log', ...line })),
    );
  });

  app.post('/v1/services/:name/restart', (c) => {
    const name = c.req.param('name');
    return ndjsonResponse((report) => controller.restart(name, report));
  });

  app.post('/v1/services/:name/reload', (c) => {
    const name = c.req.param('name');
    return ndjsonResponse((report) => controller.reload(name, report));
  });

  app.post('/v1/services/:name/scale', async (c) => {
    const body = await readBody(c, ScaleBody);
    const name = c.req.param('name');
    return ndjsonResponse((report) => controller.scale(name, body.replicas, report));
  });

  app.post('/v1/services/:name/rollback', async (c) => {
    const body = await readBody(c, RollbackBody);
    const name = c.req.param('name');
    return ndjsonResponse((report) => controller.rollback(name, body.to, report));
  });

  app.get('/v1/services/:name/rollout', (c) =>
    c.json(redactEnv(controller.rolloutStatus(c.req.param('name')))),
  );

  app.post('/v1/services/:name/rollout/:action', (c) => {
    const action = c.req.param('action');
    if (!ROLLOUT_ACTIONS.includes(action as RolloutAction)) {
      throw new HotswapError(
        'USAGE',
        `unknown rollout action "${action}"; expected one of ${ROLLOUT_ACTIONS.join(', ')}`,
      );
    }
    return c.json(controller.control(c.req.param('name'), action as RolloutAction));
  });

  app.post('/v1/down', async (c) => {
    const body = await readBody(c, DownBody);
    return ndjsonResponse((report) => controller.down(body.service, report));
  });

  app.get('/v1/proxy', async (c) => c.json(await deps.proxy.client.health()));

  app.post('/v1/proxy/upgrade', async (c) => c.json(await deps.proxy.upgrade()));

  app.get('/v1/journal', (c) => {
    const service = c.req.query('service');
    const after = c.req.query('after');
    const entries = store.journal.list({
      ...(service ? { service } : {}),
      ...(after ? { afterSeq: Number(after) } : {}),
    });
    return c.json(redactEnv({ entries }));
  });

  app.post('/v1/shutdown', async (c) => {
    const body = await readBody(c, ShutdownBody);
    setImmediate(() => deps.shutdown({ proxy: body.proxy ?? false }));
    return c.json({ ok: true });
  });

  registerSecurityRoutes(app, deps.security);
  registerReportRoutes(app, store);
  registerAlertRoutes(app, store, deps.alerts);

  return app;
}
