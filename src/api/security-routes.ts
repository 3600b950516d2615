// Token and audit endpoints (admin only: see src/security/rules.ts).
import { createHash } from 'node:crypto';
import type { Hono } from 'hono';
import { z } from 'zod';
import { HotswapError } from '../errors.js';
import type { Security } from '../security/index.js';
import { actorOf, auditDetail } from './auth.js';
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
    const created = security.tokens.create(body, actorOf(c));
    const { name, role, services, expiresAt } = created.info;
    auditDetail(
      c,
      `token "${name}" (${role}${services ? ` of ${services.join(',')}` : ''}${expiresAt ? `, expires ${expiresAt}` : ''})`,
    );
    return c.json(created);
  });

  app.post('/v1/tokens/:id/revoke', (c) => {
    const token = security.tokens.revoke(c.req.param('id'));
    auditDetail(c, `token "${token.name}" (${token.id}) revoked`);
    return c.json({ token });
  });

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
    const policy = security.images.set(body.text, body.file, actorOf(c));
    auditDetail(
      c,
      `from ${body.file} (sha256:${createHash('sha256').update(body.text).digest('hex')})`,
    );
    return c.json({ policy });
  });
}
