// What the report sampler records around a rollout (src/report/sampler.ts): traffic per revision
// per interval, with the latencies of that interval, and CPU/memory per instance. Times are epoch ms.
import type { Db } from './db.js';

export type ReportPhase = 'before' | 'during' | 'after';

export interface ReportMeta {
  rolloutId: number;
  beforeMs: number;
  afterMs: number;
  startedMs: number;
  /** When the rollout ended (the after window starts); null while it runs. */
  endedMs: number | null;
  /** The after window is over: nothing more will be recorded. */
  complete: boolean;
}

export interface TrafficSample {
  atMs: number;
  spanMs: number;
  phase: ReportPhase;
  revision: number;
  requests: number;
  /** 5xx responses and requests the proxy failed. */
  failed: number;
  /** Latencies (ms) of the requests finished in the interval (the proxy keeps the newest 5,000). */
  latencies: Float32Array;
}

export interface UsageSample {
  atMs: number;
  instanceId: string;
  revision: number;
  cpuPercent: number | null;
  memoryBytes: number | null;
}

interface MetaRow {
  rollout_id: number;
  before_ms: number;
  after_ms: number;
  started_ms: number;
  ended_ms: number | null;
  complete: number;
}

interface TrafficRow {
  at_ms: number;
  span_ms: number;
  phase: ReportPhase;
  revision: number;
  requests: number;
  failed: number;
  latencies: Buffer;
}

interface UsageRow {
  at_ms: number;
  instance_id: string;
  revision: number;
  cpu_percent: number | null;
  memory_bytes: number | null;
}

/** Rollouts per service whose samples are kept (a 10-minute rollout at 500 req/s is ~1.3 MB). */
export const KEEP_SAMPLED = 50;

export class ReportRepo {
  constructor(private readonly db: Db) {}

  /**
   * Starts (or, for a rollout resumed after a crash, keeps) the report of a rollout, and drops the
   * samples of the service's rollouts older than the last KEEP_SAMPLED (their timelines stay).
   */
  begin(m: {
    rolloutId: number;
    service: string;
    beforeMs: number;
    afterMs: number;
    startedMs: number;
  }): void {
    for (const table of ['report_traffic', 'report_usage'])
      this.db
        .prepare(
          `DELETE FROM ${table} WHERE rollout_id IN
             (SELECT id FROM rollouts WHERE service = ? ORDER BY id DESC LIMIT -1 OFFSET ?)`,
        )
        .run(m.service, KEEP_SAMPLED);
    this.db
      .prepare(
        `INSERT INTO report_meta (rollout_id, before_ms, after_ms, started_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT(rollout_id) DO UPDATE SET ended_ms = NULL, complete = 0`,
      )
      .run(m.rolloutId, m.beforeMs, m.afterMs, m.startedMs);
  }

  ended(rolloutId: number, endedMs: number): void {
    this.db
      .prepare('UPDATE report_meta SET ended_ms = ? WHERE rollout_id = ?')
      .run(endedMs, rolloutId);
  }

  complete(rolloutId: number): void {
    this.db.prepare('UPDATE report_meta SET complete = 1 WHERE rollout_id = ?').run(rolloutId);
  }

  meta(rolloutId: number): ReportMeta | null {
    const r = this.db.prepare('SELECT * FROM report_meta WHERE rollout_id = ?').get(rolloutId) as
      MetaRow | undefined;
    if (!r) return null;
    return {
      rolloutId: r.rollout_id,
      beforeMs: r.before_ms,
      afterMs: r.after_ms,
      startedMs: r.started_ms,
      endedMs: r.ended_ms,
      complete: r.complete === 1,
    };
  }

  addTraffic(rolloutId: number, samples: readonly TrafficSample[]): void {
    const insert = this.db.prepare(
      `INSERT INTO report_traffic (rollout_id, at_ms, span_ms, phase, revision, requests, failed, latencies)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const s of samples) {
        const blob = Buffer.from(
          s.latencies.buffer,
          s.latencies.byteOffset,
          s.latencies.byteLength,
        );
        insert.run(rolloutId, s.atMs, s.spanMs, s.phase, s.revision, s.requests, s.failed, blob);
      }
    })();
  }

  addUsage(rolloutId: number, samples: readonly UsageSample[]): void {
    const insert = this.db.prepare(
      `INSERT INTO report_usage (rollout_id, at_ms, instance_id, revision, cpu_percent, memory_bytes)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const s of samples)
        insert.run(rolloutId, s.atMs, s.instanceId, s.revision, s.cpuPercent, s.memoryBytes);
    })();
  }

  traffic(rolloutId: number): TrafficSample[] {
    const rows = this.db
      .prepare('SELECT * FROM report_traffic WHERE rollout_id = ? ORDER BY at_ms, revision')
      .all(rolloutId) as TrafficRow[];
    return rows.map((r) => ({
      atMs: r.at_ms,
      spanMs: r.span_ms,
      phase: r.phase,
      revision: r.revision,
      requests: r.requests,
      failed: r.failed,
      // Copied: the blob's buffer is not guaranteed to be 4-byte aligned.
      latencies: new Float32Array(
        r.latencies.buffer.slice(
          r.latencies.byteOffset,
          r.latencies.byteOffset + r.latencies.byteLength,
        ),
      ),
    }));
  }

  usage(rolloutId: number): UsageSample[] {
    const rows = this.db
      .prepare('SELECT * FROM report_usage WHERE rollout_id = ? ORDER BY at_ms, instance_id')
      .all(rolloutId) as UsageRow[];
    return rows.map((r) => ({
      atMs: r.at_ms,
      instanceId: r.instance_id,
      revision: r.revision,
      cpuPercent: r.cpu_percent,
      memoryBytes: r.memory_bytes,
    }));
  }
}
