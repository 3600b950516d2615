import { openDb, type Db } from './db.js';
import { Journal } from './journal.js';
import { RevisionRepo } from './revisions.js';
import { RolloutRepo } from './rollouts.js';
import { ServiceRepo } from './services.js';
import { WarmRepo } from './warm.js';
import { AuditRepo } from './audit.js';
import { TokenRepo } from './tokens.js';
import { PolicyRepo } from './policy.js';
import { ReportRepo } from './reports.js';
import { OutboxRepo } from './outbox.js';
import { AlertRepo } from './alerts.js';
import { WriteQueue } from './write-queue.js';

/** The one SQLite file: services, revisions, rollouts with their steps, and the journal. */
export class Store {
  readonly services: ServiceRepo;
  readonly revisions: RevisionRepo;
  readonly rollouts: RolloutRepo;
  readonly journal: Journal;
  readonly warm: WarmRepo;
  readonly tokens: TokenRepo;
  readonly audit: AuditRepo;
  readonly policy: PolicyRepo;
  readonly reports: ReportRepo;
  readonly outbox: OutboxRepo;
  readonly alerts: AlertRepo;
  /** Writes that wait for room on a full disk (journal, audit, a rollout's end). */
  readonly writes: WriteQueue;

  private constructor(
    private readonly db: Db,
    /** The SQLite file, named in messages. */
    readonly file: string,
    log?: (line: string) => void,
  ) {
    this.writes = new WriteQueue(log);
    this.services = new ServiceRepo(db);
    this.revisions = new RevisionRepo(db);
    this.rollouts = new RolloutRepo(db);
    this.journal = new Journal(db, this.writes);
    this.warm = new WarmRepo(db);
    this.tokens = new TokenRepo(db);
    this.audit = new AuditRepo(db);
    this.policy = new PolicyRepo(db);
    this.reports = new ReportRepo(db);
    this.outbox = new OutboxRepo(db);
    this.alerts = new AlertRepo(db);
  }

  static open(file: string, log?: (line: string) => void): Store {
    return new Store(openDb(file), file, log);
  }

  close(): void {
    this.writes.flush();
    this.writes.close();
    this.db.close();
  }
}
