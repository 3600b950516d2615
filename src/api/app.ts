// The daemon's HTTP API (served on a unix socket). Thin: validate input, call the controller.
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { Controller, RolloutAction } from '../controller/index.js';
import { HotswapError, toHotswapError } from '../errors.js';
import { parseSpec } from '../spec/index.js';
import type { Store } from '../store/index.js';
import type { ProxySupervisor } from '../daemon/proxy-supervisor.js';
import { readBody } from './body.js';
import { ndjsonResponse } from './ndjson.js';
import {
  checkContainerPolicy,
  redactEnv,
  preflightServices,
  REFUSED_EVENT,
  type Security,
} from '../security/index.js';
import { authMiddleware } from './auth.js';
import { transportOf } from './transport.js';
import { registerSecurityRoutes } from './security-routes.js';

export interface ApiDeps {
  controller: Controller;
  proxy: ProxySupervisor;
  store: Store;
  security: Security;
  /** For preflight hooks: the image's digest when it is on the host. */
  inspectImage?: (image: string) => Promise<{ id: string; repoDigest: string | null }>;
  version: string;
  shutdown: (opts: { proxy: boolean }) => void;
}

const ApplyBody = z.strictObject({
  file: z.string().min(1),
  text: z.string(),
  service: z.string().optional(),
});
const RollbackBody = z.strictObject({ to: z.number().int().positive().optional() });
const DownBody = z.strictObject({ service: z.string().optional() });
const ROLLOUT_ACTIONS: RolloutAction[] = ['promote', 'promote-full', 'abort', 'pause', 'resume'];
const ShutdownBody = z.strictObject({ proxy: z.boolean().optional() });

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const tooLarge = (c: Context): Response =>
  c.json({ code: 'USAGE', message: `request body over ${MAX_BODY_BYTES} bytes` }, 413);

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
    const spec = parseSpec(body.text, body.file); // a bad spec is a plain 400 before anything starts
    checkContainerPolicy(spec, deps.security.containerPolicy, {
      localCaller: transportOf(c) === 'local', // so is one the policy refuses
    });
    const targets = spec.services.filter(
      (s) => body.service === undefined || s.name === body.service,
    );
    await deps.security.images.enforce(targets);
    return ndjsonResponse(async (report) => {
      // Before any instance starts: a blocking failure ends the call with the old revision serving.
      await preflightServices(targets, deps.inspectImage, { store, report });
      return controller.apply(spec, body.service, report);
    });
  });

  app.get('/v1/services', async (c) => c.json({ services: await controller.status() }));

  app.get('/v1/services/:name/history', (c) => {
    const name = c.req.param('name');
    const refusals = store.journal
      .list({ service: name, limit: 1_000_000 })
      .filter((e) => e.event === REFUSED_EVENT)
      .map((e) => ({ at: e.at, ...(e.data as { image: string; reason: string }) }));
    return c.json(redactEnv({ ...controller.history(name), refusals }));
  });

  app.get('/v1/services/:name/logs', async (c) => {
    const tail = Number(c.req.query('tail') ?? '100');
    if (!Number.isInteger(tail) || tail < 0)
      throw new HotswapError('USAGE', 'API field "tail": expected a non-negative integer');
    return c.json({ logs: await controller.logs(c.req.param('name'), tail) });
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
    return c.json({
      entries: store.journal.list({
        ...(service ? { service } : {}),
        ...(after ? { afterSeq: Number(after) } : {}),
      }),
    });
  });

  app.post('/v1/shutdown', async (c) => {
    const body = await readBody(c, ShutdownBody);
    setImmediate(() => deps.shutdown({ proxy: body.proxy ?? false }));
    return c.json({ ok: true });
  });

  registerSecurityRoutes(app, deps.security);

  return app;
}
