// The daemon's own metrics (prom-client): what rollouts, the reconcile loop and the probes did.
// They are derived from the journal, which already records every transition before it is acted
// on, so no rollout code path has to know about metrics. Labels are bounded: service names, fixed
// event names and outcomes, never instance ids.
import client from 'prom-client';
import type { JournalEntry, Store } from '../store/index.js';
import type { Instance } from '../runtime/types.js';

export interface DaemonMetricsDeps {
  store: Store;
  /** Every container of this home, read at scrape time (instances by state). */
  listInstances: () => Promise<Instance[]>;
}

type ServiceLabels = Record<string, string> & { service: string };
interface Removable {
  remove(labels: client.LabelValues<string>): void;
}

/** Rollout durations run from seconds (a rolling restart) to the better part of an hour. */
const DURATION_BUCKETS = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600];

export class DaemonMetrics {
  readonly registry = new client.Registry();
  private readonly rollouts: client.Counter<'service' | 'outcome'>;
  private readonly duration: client.Histogram<'service' | 'outcome'>;
  private readonly steps: client.Counter<'service' | 'kind'>;
  private readonly verdicts: client.Counter<'service' | 'result'>;
  private readonly rollbacks: client.Counter<'service' | 'trigger'>;
  private readonly reconcile: client.Counter<'service' | 'action'>;
  private readonly probes: client.Counter<'type' | 'result'>;
  private readonly journal: client.Counter<'event'>;
  /** Per service, every label set used, so a removed service's series can go with it. */
  private readonly seen = new Map<
    string,
    Map<string, { metric: Removable; labels: ServiceLabels }>
  >();

  constructor(private readonly deps: DaemonMetricsDeps) {
    const registers = [this.registry];
    this.rollouts = new client.Counter({
      name: 'hotswap_rollouts_total',
      help: 'Rollouts that ended, by service and outcome (succeeded, failed).',
      labelNames: ['service', 'outcome'],
      registers,
    });
    this.duration = new client.Histogram({
      name: 'hotswap_rollout_duration_seconds',
      help: 'From the start of a rollout to its end (a failed one includes its rollback).',
      labelNames: ['service', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.steps = new client.Counter({
      name: 'hotswap_rollout_steps_total',
      help: 'Rollout steps started, by kind (setWeight, analysis, pause, surge, promote, …).',
      labelNames: ['service', 'kind'],
      registers,
    });
    this.verdicts = new client.Counter({
      name: 'hotswap_analysis_verdicts_total',
      help: 'Analysis judgements, by result (pass, fail, inconclusive).',
      labelNames: ['service', 'result'],
      registers,
    });
    this.rollbacks = new client.Counter({
      name: 'hotswap_rollbacks_total',
      help: 'Rollbacks: automatic (a failed rollout put traffic back) or requested (rollback verb).',
      labelNames: ['service', 'trigger'],
      registers,
    });
    this.reconcile = new client.Counter({
      name: 'hotswap_reconcile_actions_total',
      help: 'Actions the reconcile loop took to converge a service, by action.',
      labelNames: ['service', 'action'],
      registers,
    });
    this.probes = new client.Counter({
      name: 'hotswap_probes_total',
      help: 'Health probes of instances, by type (http, tcp) and result (pass, fail).',
      labelNames: ['type', 'result'],
      registers,
    });
    this.journal = new client.Counter({
      name: 'hotswap_journal_events_total',
      help: 'Journal entries written, by event.',
      labelNames: ['event'],
      registers,
    });
    const listInstances = deps.listInstances;
    new client.Gauge({
      name: 'hotswap_instances',
      help: 'Containers of each service, by Docker state (running, exited, restarting, …).',
      labelNames: ['service', 'state'],
      registers,
      async collect() {
        this.reset();
        // An engine that does not answer leaves the gauge empty; the rest of the scrape serves.
        const all = await listInstances().catch(() => []);
        for (const i of all) this.inc({ service: i.service, state: i.state });
      },
    });
    client.collectDefaultMetrics({ register: this.registry, prefix: 'hotswap_daemon_' });
  }

  /** Counts one journal entry (called for every append). */
  observe(e: JournalEntry): void {
    this.journal.inc({ event: e.event });
    const service = e.service ?? '';
    const data = (e.data ?? {}) as Record<string, unknown>;
    switch (e.event) {
      case 'rollout.succeeded':
      case 'rollout.failed':
        this.ended(service, e.event === 'rollout.succeeded' ? 'succeeded' : 'failed', e);
        return;
      case 'rollout.started':
        if (data.kind === 'rollback') this.count(this.rollbacks, { service, trigger: 'requested' });
        return;
      case 'step.started':
        this.count(this.steps, {
          service,
          kind: typeof data.kind === 'string' ? data.kind : 'unknown',
        });
        return;
      case 'analysis.verdict':
        this.count(this.verdicts, { service, result: String(data.result) });
        return;
      case 'rollback.finished':
        this.count(this.rollbacks, { service, trigger: 'automatic' });
        return;
      case 'service.removed':
        this.forget(service);
        return;
      default:
        // The reconcile loop's entries carry what triggered them.
        if (typeof data.trigger === 'string')
          this.count(this.reconcile, { service, action: e.event });
    }
  }

  /** Counts one probe result (health/probe.ts calls its observer for every probe). */
  probed(type: string, ok: boolean): void {
    this.probes.inc({ type, result: ok ? 'pass' : 'fail' });
  }

  /** Text of the daemon's metrics. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  private ended(service: string, outcome: string, e: JournalEntry): void {
    this.count(this.rollouts, { service, outcome });
    const rollout = e.rolloutId === null ? undefined : this.deps.store.rollouts.get(e.rolloutId);
    if (!rollout) return;
    const seconds = (Date.parse(e.at) - Date.parse(rollout.startedAt)) / 1000;
    if (!Number.isFinite(seconds) || seconds < 0) return;
    this.track(this.duration, { service, outcome });
    this.duration.observe({ service, outcome }, seconds);
  }

  private count(metric: client.Counter, labels: ServiceLabels): void {
    this.track(metric, labels);
    metric.inc(labels);
  }

  private track(metric: Removable, labels: ServiceLabels): void {
    let mine = this.seen.get(labels.service);
    if (mine === undefined) {
      mine = new Map<string, { metric: Removable; labels: ServiceLabels }>();
      this.seen.set(labels.service, mine);
    }
    const key = JSON.stringify([(metric as { name?: string }).name, labels]);
    if (!mine.has(key)) mine.set(key, { metric, labels });
  }

  /** A removed service's series go: the label sets stay as many as the services there are. */
  private forget(service: string): void {
    for (const { metric, labels } of this.seen.get(service)?.values() ?? []) metric.remove(labels);
    this.seen.delete(service);
  }
}
