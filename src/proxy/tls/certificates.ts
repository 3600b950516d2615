// The certificates of TLS listeners: PEM files read into secure contexts, checked when a service
// is set (unreadable, mismatched or expired → a CONFLICT naming the file), and read again when a
// file changes, so a renewed certificate is served to new connections without touching open
// ones. A change that does not load (a half-written file, a key for another certificate) keeps
// the context that works and is logged.
import { watchFile, unwatchFile } from 'node:fs';
import { checkCertificate } from '../../tls/certificate-check.js';
import tls from 'node:tls';
import { conflict } from '../core/validate.js';
import type { TlsConfig } from '../types.js';

/** How often watched files are polled (fs.watchFile: works for files replaced by a rename). */
const WATCH_INTERVAL_MS = 1000;

interface Loaded {
  context: tls.SecureContext;
  /** The leaf certificate's end of validity. */
  notAfter: Date;
  /** Subject alternative names (DNS), lowercase. */
  names: string[];
}

/** Reads and checks a certificate chain and its key; throws a CONFLICT naming the field. */
export function loadCertificate(config: TlsConfig, field = 'tls', now = new Date()): Loaded {
  const checked = checkCertificate(config, now);
  if (!checked.ok) throw conflict(`${field}.${checked.field}`, checked.message);
  const context = tls.createSecureContext({
    cert: checked.cert,
    key: checked.key,
    minVersion: 'TLSv1.2',
  });
  return { context, notAfter: checked.notAfter, names: checked.names };
}

interface Entry {
  config: TlsConfig;
  loaded: Loaded;
  users: number;
  onChange: () => void;
}

/** One secure context per (cert, key) pair, shared by the services that name it. */
export class CertificateStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly log: (line: string) => void) {}

  /** Checks and loads the pair (a CONFLICT when it does not load); counts one more user. */
  acquire(config: TlsConfig, field = 'tls'): void {
    const id = keyOf(config);
    const entry = this.entries.get(id);
    if (entry !== undefined) {
      entry.users++;
      return;
    }
    const created: Entry = {
      config,
      loaded: loadCertificate(config, field),
      users: 1,
      onChange: () => this.reload(id),
    };
    this.entries.set(id, created);
    for (const file of [config.cert, config.key]) {
      watchFile(file, { interval: WATCH_INTERVAL_MS, persistent: false }, created.onChange);
    }
  }

  release(config: TlsConfig): void {
    const id = keyOf(config);
    const entry = this.entries.get(id);
    if (entry === undefined || --entry.users > 0) return;
    this.entries.delete(id);
    for (const file of [config.cert, config.key]) unwatchFile(file, entry.onChange);
  }

  /** The pair's current context (undefined when it was never acquired). */
  context(config: TlsConfig): tls.SecureContext | undefined {
    return this.entries.get(keyOf(config))?.loaded.context;
  }

  /** When the pair's certificate expires. */
  notAfter(config: TlsConfig): Date | undefined {
    return this.entries.get(keyOf(config))?.loaded.notAfter;
  }

  private reload(id: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    try {
      entry.loaded = loadCertificate(entry.config);
      this.log(
        `tls: reloaded ${entry.config.cert} (valid until ${entry.loaded.notAfter.toISOString()})`,
      );
    } catch (err) {
      this.log(
        `tls: kept the previous certificate for ${entry.config.cert}: ${(err as Error).message}`,
      );
    }
  }

  closeAll(): void {
    for (const [id, entry] of this.entries) {
      for (const file of [entry.config.cert, entry.config.key]) unwatchFile(file, entry.onChange);
      this.entries.delete(id);
    }
  }
}

function keyOf(config: TlsConfig): string {
  return `${config.cert}\0${config.key}`;
}
