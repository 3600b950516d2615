// Alerts and notifications in the daemon (issue 15): the alert loop, and the notifier that turns
// journal entries into outbox rows with the delivery loop that sends them. The notifier observes
// the journal, the one place every rollout transition, crash loop and alert is written.
import { AlertEvaluator, ALERT_INTERVAL_MS } from '../alerts/index.js';
import { HotswapError } from '../errors.js';
import { DeliveryLoop, Notifier } from '../notify/index.js';
import type { Router } from '../proxy/types.js';
import type { Runtime } from '../runtime/types.js';
import { formatDuration, parseDuration, type NotifyTarget } from '../spec/index.js';
import type { Store } from '../store/index.js';

/** How often alert rules are evaluated (tests make it short). */
export const ALERT_INTERVAL_ENV = 'HOTSWAP_ALERT_INTERVAL';

export interface Alerting {
  evaluator: AlertEvaluator;
  stop: () => void;
}

export function startAlerting(deps: {
  store: Store;
  router: Pick<Router, 'stats' | 'table'>;
  runtime: Pick<Runtime, 'instanceUsage'>;
  notify: NotifyTarget[];
  log: (line: string) => void;
}): Alerting {
  const { store, log } = deps;
  const delivery = new DeliveryLoop(store, { log }).start();
  const notifier = new Notifier({
    store,
    daemonTargets: deps.notify,
    enqueued: () => delivery.kick(),
    log,
  });
  const unobserve = store.journal.observe((e) => notifier.observe(e));
  const evaluator = new AlertEvaluator({
    store,
    router: deps.router,
    runtime: deps.runtime,
    intervalMs: alertIntervalFromEnv(process.env),
    log,
  }).start();
  return {
    evaluator,
    stop: () => {
      evaluator.stop();
      unobserve();
      delivery.stop();
    },
  };
}

function alertIntervalFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env[ALERT_INTERVAL_ENV];
  if (raw === undefined || raw === '') return ALERT_INTERVAL_MS;
  const ms = parseDuration(raw);
  if (typeof ms === 'string' || ms < 100 || ms > 300_000)
    throw new HotswapError(
      'USAGE',
      `${ALERT_INTERVAL_ENV}=${raw}: expected a duration from 100ms to ${formatDuration(300_000)}`,
    );
  return ms;
}
