// Alerts and availability (issue 15; read permission: see src/security/rules.ts).
import type { Hono } from 'hono';
import { computeAvailability, INCIDENT_EVENTS, type RuleView } from '../alerts/index.js';
import { HotswapError } from '../errors.js';
import { parseLongDuration } from '../spec/schema.js';
import type { Store } from '../store/index.js';
import { redactUrl } from '../security/index.js';

export interface AlertSource {
  rules(): RuleView[];
}

const DEFAULT_SINCE = '7d';

export function registerAlertRoutes(app: Hono, store: Store, alerts?: AlertSource): void {
  app.get('/v1/alerts', (c) => {
    const service = c.req.query('service');
    const sinceMs = Date.now() - sinceSeconds(c.req.query('since') ?? DEFAULT_SINCE) * 1000;
    const rules = (alerts?.rules() ?? []).filter((r) => !service || r.service === service);
    return c.json({
      firing: store.alerts.firing(service),
      rules,
      history: store.alerts.history({
        ...(service ? { service } : {}),
        sinceIso: new Date(sinceMs).toISOString(),
        limit: 100,
      }),
      // Were the webhooks told? The latest deliveries, without their bodies.
      deliveries: store.outbox
        .list({ limit: 50 })
        .filter((d) => !service || d.service === service)
        .map((d) => ({
          id: d.id,
          event: d.event,
          service: d.service,
          url: redactUrl(d.url),
          state: d.state,
          attempts: d.attempts,
          lastError: d.lastError,
          createdAt: d.createdAt,
          finishedAt: d.finishedAt,
        })),
    });
  });

  app.get('/v1/services/:name/availability', (c) => {
    const service = c.req.param('name');
    if (!store.services.get(service) && store.rollouts.list(service, 1).length === 0)
      throw new HotswapError('NOT_FOUND', `no service named "${service}"`);
    const nowMs = Date.now();
    const sinceMs = nowMs - sinceSeconds(c.req.query('since') ?? DEFAULT_SINCE) * 1000;
    const sinceIso = new Date(sinceMs).toISOString();
    return c.json(
      computeAvailability({
        service,
        sinceMs,
        nowMs,
        minutes: store.alerts.minutes(service, sinceMs),
        alerts: store.alerts.history({ service, sinceIso, limit: 10_000 }),
        rollouts: store.rollouts.list(service, 10_000),
        marks: store.alerts.events(service, INCIDENT_EVENTS, sinceIso),
      }),
    );
  });
}

/** `since`: a span like "7d", "12h", "90m" or seconds; errors name the API field. */
function sinceSeconds(raw: string): number {
  const s = parseLongDuration(/^\d+$/.test(raw) ? Number(raw) : raw);
  if (typeof s === 'string' || s <= 0)
    throw new HotswapError(
      'USAGE',
      `API field "since": expected a span like "7d", "12h" or "30m", found "${raw}"`,
    );
  return s;
}
