// The audit log is a hash chain: each entry's hash covers its own fields, its sequence number and
// the previous entry's hash. Editing an entry breaks its hash; deleting one breaks the next
// entry's link; moving one changes the number its hash was made with. Pure functions.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../spec/index.js';
import type { AuditRecord } from '../store/index.js';

export const GENESIS = '0'.repeat(64);

export type AuditFields = Omit<AuditRecord, 'seq' | 'prevHash' | 'hash'>;

export function entryHash(e: Omit<AuditRecord, 'hash'>): string {
  const covered = {
    v: 1,
    seq: e.seq,
    prev: e.prevHash,
    at: e.at,
    actor: e.actor,
    verb: e.verb,
    service: e.service,
    specHash: e.specHash,
    imageDigest: e.imageDigest,
    source: e.source,
    outcome: e.outcome,
  };
  return createHash('sha256').update(canonicalJson(covered)).digest('hex');
}

/** The next entry after `last` (null = the chain is empty). */
export function chainNext(last: AuditRecord | null, fields: AuditFields): AuditRecord {
  const base = { ...fields, seq: (last?.seq ?? 0) + 1, prevHash: last?.hash ?? GENESIS };
  return { ...base, hash: entryHash(base) };
}

export type ChainProblem = 'edited' | 'deleted' | 'reordered';

export type VerifyResult =
  | { ok: true; entries: number; head: { seq: number; hash: string } | null }
  | { ok: false; entries: number; seq: number; problem: ChainProblem; message: string };

/** A signed statement of the chain's last entry (see checkpoint.ts). */
export interface Head {
  seq: number;
  hash: string;
}

/** Walks the chain in seq order and names the first entry that was edited, deleted or moved. */
export function verifyChain(entries: AuditRecord[], head: Head | null = null): VerifyResult {
  let prev: AuditRecord | null = null;
  const fail = (seq: number, problem: ChainProblem, message: string): VerifyResult => ({
    ok: false,
    entries: entries.length,
    seq,
    problem,
    message,
  });
  for (const e of entries) {
    const expectedSeq = (prev?.seq ?? 0) + 1;
    const expectedPrev = prev?.hash ?? GENESIS;
    if (entryHash(e) !== e.hash) {
      const writtenAs = originalSeq(e, entries.length + 1);
      if (writtenAs !== null && writtenAs !== e.seq)
        return fail(
          e.seq,
          'reordered',
          `entry #${e.seq} was written as #${writtenAs}: entries were reordered`,
        );
      return fail(
        e.seq,
        'edited',
        `entry #${e.seq} was edited: its content no longer matches its hash`,
      );
    }
    if (e.prevHash !== expectedPrev) {
      if (e.seq > expectedSeq) {
        const gone =
          e.seq - 1 === expectedSeq ? `#${expectedSeq}` : `#${expectedSeq}..#${e.seq - 1}`;
        return fail(
          expectedSeq,
          'deleted',
          `entry ${gone} was deleted: the chain jumps to #${e.seq}`,
        );
      }
      const at = prev?.seq ?? 1;
      return fail(
        at,
        'edited',
        `entry #${at} was edited (its hash was recomputed): #${e.seq} still links to the original`,
      );
    }
    prev = e;
  }
  if (head) {
    const last = prev?.seq ?? 0;
    if (head.seq > last) {
      const gone = last + 1 === head.seq ? `#${head.seq}` : `#${last + 1}..#${head.seq}`;
      return fail(
        last + 1,
        'deleted',
        `entry ${gone} was deleted: the signed head names #${head.seq}`,
      );
    }
    const atHead = entries.find((e) => e.seq === head.seq);
    if (atHead && atHead.hash !== head.hash)
      return fail(
        head.seq,
        'edited',
        `the chain up to #${head.seq} was rewritten: its hash differs from the signed head`,
      );
  }
  return {
    ok: true,
    entries: entries.length,
    head: prev ? { seq: prev.seq, hash: prev.hash } : null,
  };
}

/** The sequence number an entry's own hash was made with, if its content is otherwise intact. */
function originalSeq(e: AuditRecord, max: number): number | null {
  for (let seq = 1; seq <= max; seq++) if (entryHash({ ...e, seq }) === e.hash) return seq;
  return null;
}
