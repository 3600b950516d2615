// Token and audit endpoints (admin only: see src/security/rules.ts).
import type { Hono } from 'hono';
import { z } from 'zod';
import { HotswapError } from '../errors.js';
import type { Security } from '../security/index.js';
import { actorOf } from './auth.js';
import { readBody } from './body.js';

const TokenBody = z.strictObject({
  role: z.string(),
  services: z.array(z.string()).optional(),
  expires: z.string().optional(),
  name: z.string().optional(),
});

const PolicyBody = z.strictObject({ file: z.string().min(1), text: z.string() });

export function registerSecurityRoutes(app: Hono, security: Security): void {
  app.get('/v1/tokens', (c) => c.json({ tokens: security.tokens.list() }));

  app.post('/v1/tokens', async (c) => {
    const body = await readBody(c, TokenBody);
    return c.json(security.tokens.create(body, actorOf(c)));
  });

  app.post('/v1/tokens/:id/revoke', (c) =>
    c.json({ token: security.tokens.revoke(c.req.param('id')) }),
  );

  app.get('/v1/audit', (c) => {
    const service = c.req.query('service');
    const since = c.req.query('since');
    if (since !== undefined && Number.isNaN(Date.parse(since)))
      throw new HotswapError('USAGE', `API field "since": expected an ISO time, found "${since}"`);
    return c.json({
      entries: security.audit.list({
        ...(service ? { service } : {}),
        ...(since ? { since: new Date(since).toISOString() } : {}),
      }),
    });
  });

  app.get('/v1/audit/verify', (c) => c.json(security.audit.verify()));

  app.get('/v1/policy', (c) => c.json(security.images.current()));

  app.post('/v1/policy', async (c) => {
    const body = await readBody(c, PolicyBody);
    return c.json({ policy: security.images.set(body.text, body.file, actorOf(c)) });
  });
}
