// The alert loop (issue 15): every interval, for each service, it records the minute's requests
// and failures (availability), then evaluates the service's alert rules on the proxy's and
// Docker's numbers. A rule that fires or resolves is stored (history) and journaled as
// `alert.firing` / `alert.resolved`, which is where notifications pick it up. Firing alerts
// survive a daemon restart: the next daemon resolves them when their condition is gone.
import type { Router } from '../proxy/types.js';
import type { Runtime } from '../runtime/types.js';
import type { AlertRule } from '../spec/index.js';
import type { Store } from '../store/index.js';
import { humanDuration } from './availability.js';
import {
  AnomalyRule,
  thresholdOutcome,
  type AnomalyCondition,
  type Outcome,
} from './conditions.js';
import { Measures, totals, type UsageMemory } from './measure.js';
import { RuleState, type RuleStatus } from './rule-state.js';

export interface AlertEvaluatorDeps {
  store: Store;
  router: Pick<Router, 'stats' | 'table'>;
  runtime?: Pick<Runtime, 'instanceUsage'>;
  intervalMs?: number;
  log?: (line: string) => void;
}

export const ALERT_INTERVAL_MS = 5000;
/** How far back availability can look. */
export const KEEP_MINUTES_MS = 90 * 86_400_000;

export interface RuleView {
  service: string;
  rule: string;
  when: string;
  status: RuleStatus;
  /** The last value read, with its unit; null: no data. */
  value: string | null;
  since: string | null;
}

export class AlertEvaluator {
  private readonly states = new Map<string, RuleState>();
  private readonly last = new Map<string, { rule: AlertRule; outcome: Outcome }>();
  private readonly detectors = new Map<string, { key: string; rule: AnomalyRule }>();
  private readonly usage = new Map<string, UsageMemory>();
  private readonly lastTickAt = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private running = false;
  readonly intervalMs: number;

  constructor(private readonly deps: AlertEvaluatorDeps) {
    this.intervalMs = deps.intervalMs ?? ALERT_INTERVAL_MS;
    for (const a of deps.store.alerts.firing())
      this.states.set(key(a.service, a.rule), RuleState.firing(a.id, Date.parse(a.firedAt)));
  }

  start(): this {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), 3_600_000);
    this.pruneTimer.unref();
    return this;
  }

  /** Per-minute counts are kept KEEP_MINUTES_MS. */
  private prune(): void {
    try {
      this.deps.store.alerts.pruneMinutes(Date.now() - KEEP_MINUTES_MS);
    } catch (err) {
      this.deps.log?.(`pruning minute counts: ${(err as Error).message}`);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.timer = this.pruneTimer = null;
  }

  /** Every rule of every service, with its state and last value (for `hotswap alerts`). */
  rules(): RuleView[] {
    const views: RuleView[] = [];
    for (const svc of this.deps.store.services.list())
      for (const rule of svc.spec.alerts ?? []) {
        const k = key(svc.name, rule.name);
        const state = this.states.get(k);
        const outcome = this.last.get(k)?.outcome;
        views.push({
          service: svc.name,
          rule: rule.name,
          when: rule.when,
          status: state?.status ?? 'ok',
          value: outcome?.value == null ? null : outcome.text,
          since: state && state.status !== 'ok' ? new Date(state.sinceMs).toISOString() : null,
        });
      }
    return views;
  }

  /** One pass over every service; exposed for tests. */
  async tick(now = Date.now()): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const table = await this.deps.router.table().catch(() => null);
      const services = this.deps.store.services.list();
      for (const svc of services) {
        if (table && !table.services[svc.name]) continue;
        await this.service(svc.name, svc.spec.alerts ?? [], svc.stableRevision, now).catch(
          (err: unknown) => this.deps.log?.(`alerts of ${svc.name}: ${(err as Error).message}`),
        );
      }
      this.resolveOrphans(new Map(services.map((s) => [s.name, s.spec.alerts ?? []])), now);
    } finally {
      this.running = false;
    }
  }

  private async service(
    service: string,
    rules: AlertRule[],
    stable: number | null,
    now: number,
  ): Promise<void> {
    let memory = this.usage.get(service);
    if (!memory) this.usage.set(service, (memory = new Map() as UsageMemory));
    const measures = new Measures(
      service,
      {
        stats: (s, o) => this.deps.router.stats(s, o),
        restarts: (s, windowMs) =>
          this.deps.store.alerts.replacementsSince(s, new Date(now - windowMs).toISOString()),
        usage: this.deps.runtime?.instanceUsage?.bind(this.deps.runtime),
      },
      memory,
    );
    // The interval since the last pass: counted into its minute, and read by anomaly rules.
    const span = Math.min(now - (this.lastTickAt.get(service) ?? now - this.intervalMs), 3_600_000);
    this.lastTickAt.set(service, now);
    const interval = await measures.window(Math.max(1, span));
    const { requests, failed } = totals(interval);
    this.deps.store.alerts.addMinute(service, Math.floor(now / 60_000) * 60_000, requests, failed);
    for (const rule of rules) {
      const outcome =
        rule.condition.kind === 'threshold'
          ? await thresholdOutcome(rule.condition, rule.windowMs, measures)
          : await this.anomaly(service, rule, rule.condition).evaluate(measures, span, stable);
      this.last.set(key(service, rule.name), { rule, outcome });
      this.transition(service, rule, outcome, now);
    }
  }

  /** The anomaly baselines of a rule; a changed condition starts afresh. */
  private anomaly(service: string, rule: AlertRule, c: AnomalyCondition): AnomalyRule {
    const k = key(service, rule.name);
    const spec = JSON.stringify(c);
    let d = this.detectors.get(k);
    if (!d || d.key !== spec) {
      d = { key: spec, rule: new AnomalyRule(c) };
      this.detectors.set(k, d);
    }
    return d.rule;
  }

  private transition(service: string, rule: AlertRule, o: Outcome, now: number): void {
    const k = key(service, rule.name);
    let state = this.states.get(k);
    if (!state) this.states.set(k, (state = new RuleState()));
    const t = state.step(o.holds, now, rule.forMs);
    if (t === 'fire') {
      const message = `alert ${rule.name} firing: ${o.text}`;
      const a = this.deps.store.alerts.fired({
        service,
        rule: rule.name,
        expr: rule.when,
        value: o.value,
        message,
      });
      state.alertId = a.id;
      this.journal(service, 'alert.firing', rule.name, rule.when, o.value, message, a.id);
    } else if (t === 'resolve') {
      this.resolve(service, rule.name, rule.when, state, now, o.value, o.text);
    }
  }

  private resolve(
    service: string,
    rule: string,
    when: string,
    state: RuleState,
    now: number,
    value: number | null,
    why: string,
  ): void {
    const id = state.alertId;
    state.alertId = null;
    state.status = 'ok';
    if (id === null) return;
    this.deps.store.alerts.resolved(id);
    const message = `alert ${rule} resolved after ${humanDuration(Math.max(0, now - state.sinceMs))}: ${why}`;
    this.journal(service, 'alert.resolved', rule, when, value, message, id);
  }

  /** Firing alerts whose rule (or service) is gone are resolved, saying so. */
  private resolveOrphans(rules: Map<string, AlertRule[]>, now: number): void {
    for (const [k, state] of this.states) {
      const [service, rule] = k.split('\0') as [string, string];
      if (rules.get(service)?.some((r) => r.name === rule)) continue;
      this.states.delete(k);
      this.last.delete(k);
      this.detectors.delete(k);
      if (state.status === 'firing') {
        const expr =
          state.alertId === null ? '' : (this.deps.store.alerts.get(state.alertId)?.expr ?? '');
        this.resolve(service, rule, expr, state, now, null, 'the rule was removed');
      }
    }
    for (const service of [...this.usage.keys()])
      if (!rules.has(service)) this.usage.delete(service);
  }

  private journal(
    service: string,
    event: string,
    rule: string,
    when: string,
    value: number | null,
    message: string,
    alertId: number,
  ): void {
    this.deps.log?.(`${service}: ${message}`);
    this.deps.store.journal.append({
      service,
      event,
      data: { rule, when, value, message, alertId },
    });
  }
}

function key(service: string, rule: string): string {
  return `${service}\0${rule}`;
}
