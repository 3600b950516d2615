// Turns journal entries into outbox rows: for each entry that is a notification event, one
// delivery per webhook (the daemon's config.yaml `notify`, then the service's own) that wants
// the event. Only an insert into SQLite happens here, inside the journal append; sending is the
// delivery loop's job, so a rollout never waits on a webhook.
import type { NotifyTarget, ServiceSpec } from '../spec/index.js';
import type { JournalEntry, Store } from '../store/index.js';
import { notificationOf } from './events.js';
import { deliveryFor } from './payload.js';

export interface NotifierDeps {
  store: Store;
  /** config.yaml's webhooks: told about every service. */
  daemonTargets: NotifyTarget[];
  /** Called after something was enqueued (wakes the delivery loop). */
  enqueued: () => void;
  log?: (line: string) => void;
}

export class Notifier {
  constructor(private readonly deps: NotifierDeps) {}

  /** Journal observer. */
  observe(e: JournalEntry): void {
    const { store } = this.deps;
    const n = notificationOf(e, (id) => store.rollouts.get(id));
    if (n === null) return;
    // A webhook named both in config.yaml and in the spec is told once.
    const seen = new Set<string>();
    const targets = [...this.deps.daemonTargets, ...this.serviceTargets(e)].filter((t) => {
      if (!t.events.includes(n.event) || seen.has(t.url)) return false;
      seen.add(t.url);
      return true;
    });
    if (targets.length === 0) return;
    for (const t of targets) store.outbox.enqueue(deliveryFor(n, t));
    this.deps.enqueued();
  }

  /**
   * The service's webhooks. A rollout's start carries the spec it runs (a first deploy's service
   * is not stored yet); later entries read the stored spec.
   */
  private serviceTargets(e: JournalEntry): NotifyTarget[] {
    if (e.service === null) return [];
    const carried = (e.data as { spec?: ServiceSpec } | null)?.spec;
    const spec =
      carried?.name === e.service ? carried : this.deps.store.services.get(e.service)?.spec;
    return spec?.notify ?? [];
  }
}
