// Every journal entry (rollout steps, verdicts, healing, reconcile actions) becomes a line of the
// daemon's log, with its service, rollout and revision: the journal is what the daemon does, and
// the log is where an operator looks first.
import type { Log } from '../logging/index.js';
import type { JournalEntry, Store } from '../store/index.js';

/** Events a person should notice among the routine ones. */
function levelOf(event: string): 'info' | 'warn' | 'error' {
  if (event.endsWith('.error')) return 'error';
  if (/\.(failed|retry|crashloop|breached)$|^rollback\.started$|^watch\.failed$/.test(event))
    return 'warn';
  return 'info';
}

export function logJournal(store: Store, log: Log): () => void {
  const revisionOf = new Map<number, number>();
  const revision = (e: JournalEntry): number | undefined => {
    const own = (e.data as { revision?: unknown } | null)?.revision;
    if (typeof own === 'number') return own;
    if (e.rolloutId === null) return undefined;
    let r = revisionOf.get(e.rolloutId);
    if (r === undefined) {
      r = store.rollouts.get(e.rolloutId)?.toRevision;
      if (r !== undefined) revisionOf.set(e.rolloutId, r);
    }
    return r;
  };
  return store.journal.observe((e, message) => {
    const rev = revision(e);
    const fields = {
      event: e.event,
      ...(e.service === null ? {} : { service: e.service }),
      ...(e.rolloutId === null ? {} : { rollout: e.rolloutId }),
      ...(rev === undefined ? {} : { revision: rev }),
    };
    const text = `${e.event}: ${message ?? summary(e.data)}`;
    const level = levelOf(e.event);
    if (level === 'info') log(text, fields);
    else log[level](text, fields);
  });
}

/** The entry's own message, or its data in short (a rollout's spec left out). */
function summary(data: unknown): string {
  if (data === null || typeof data !== 'object') return String(data);
  const { message, ...rest } = data as { message?: unknown; spec?: unknown };
  if (typeof message === 'string') return message;
  delete rest.spec;
  const json = JSON.stringify(rest);
  return json.length > 300 ? `${json.slice(0, 300)}…` : json;
}
