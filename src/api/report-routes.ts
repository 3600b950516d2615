// The impact report of a rollout (read permission: see src/security/rules.ts).
import type { Hono } from 'hono';
import { HotswapError } from '../errors.js';
import { buildReport } from '../report/index.js';
import type { Store } from '../store/index.js';

export function registerReportRoutes(app: Hono, store: Store): void {
  app.get('/v1/services/:name/report', (c) => {
    const raw = c.req.query('rollout');
    const id = raw === undefined ? undefined : Number(raw);
    if (id !== undefined && !(Number.isInteger(id) && id > 0))
      throw new HotswapError('USAGE', 'API field "rollout": expected a rollout number like 12');
    return c.json(buildReport(store, c.req.param('name'), id));
  });
}
