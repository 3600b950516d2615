// Appends audited calls to the chain and checks it.
import type { AuditRecord, Store } from '../store/index.js';
import {
  chainNext,
  verifyChain,
  type AuditFields,
  type Head,
  type VerifyResult,
} from './audit-chain.js';
import type { HeadSigner } from './checkpoint.js';

export class AuditLog {
  constructor(
    private readonly store: Store,
    private readonly signer: HeadSigner | null,
  ) {}

  /** On a full disk the record waits in memory, in order, and joins the chain once there is room. */
  append(fields: Omit<AuditFields, 'at'>): void {
    const at = new Date().toISOString();
    this.store.writes.run(() => {
      const entry = this.store.audit.append((last) => chainNext(last, { ...fields, at }));
      this.signer?.write({ seq: entry.seq, hash: entry.hash });
    });
  }

  list(filter: { service?: string; since?: string; limit?: number }): AuditRecord[] {
    return this.store.audit.list(filter);
  }

  verify(): VerifyResult {
    const entries = this.store.audit.all();
    let head: Head | null;
    try {
      head = this.signer?.read() ?? null;
    } catch (err) {
      return {
        ok: false,
        entries: entries.length,
        seq: entries.at(-1)?.seq ?? 0,
        problem: 'edited',
        message: (err as Error).message,
      };
    }
    return verifyChain(entries, head);
  }
}
