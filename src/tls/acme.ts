// Certificates from an ACME server (Let's Encrypt, or Pebble in the tests) with the HTTP-01
// challenge, which hotswap's own proxy answers. The account key and each certificate live in
// the home (<home>/tls, files mode 0600). A certificate is ordered when missing, and renewed
// when it is within its renewBefore of expiry; a renewal that fails keeps the old certificate
// serving and is reported. Files are replaced by a rename, so the proxy (which watches them)
// never reads half of one.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { HotswapError } from '../errors.js';
import type { AcmeOrder } from '../proxy/types.js';
import { checkCertificate } from './certificate-check.js';

/** What the ACME manager needs from the proxy: a place to answer the HTTP-01 challenge. */
export interface ChallengeAnswerer {
  setChallenge(token: string, keyAuthorization: string): Promise<void>;
  clearChallenge(token: string): Promise<void>;
}

export interface AcmeEvent {
  hosts: string[];
  kind: 'acme.issued' | 'acme.renewed' | 'acme.failed';
  message: string;
  notAfter?: string;
}

export interface AcmeOptions {
  /** <home>/tls */
  dir: string;
  answerer: ChallengeAnswerer;
  /** Issuance, renewal and failure, for the journal and the log. */
  record: (event: AcmeEvent) => void;
  now?: () => Date;
}

export interface CertificatePaths {
  cert: string;
  key: string;
}

export class AcmeManager {
  private readonly now: () => Date;
  /** Orders under way, by certificate folder: one at a time per set of names. */
  private readonly pending = new Map<string, Promise<CertificatePaths>>();
  /** Every order this daemon has served, for the renewal sweep. */
  private readonly known = new Map<string, AcmeOrder>();

  constructor(private readonly opts: AcmeOptions) {
    this.now = opts.now ?? (() => new Date());
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  }

  /** Where the certificate for these names lives (whether or not it exists yet). */
  paths(order: AcmeOrder): CertificatePaths {
    const dir = this.folder(order);
    return { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  }

  /**
   * A certificate for the order's names that is not due for renewal: the one on disk, or a new
   * one ordered now. Throws ACME_FAILED when none could be had (a first order that failed); a
   * failed renewal of a still valid certificate is recorded and the old one returned.
   */
  ensure(order: AcmeOrder): Promise<CertificatePaths> {
    const dir = this.folder(order);
    this.known.set(dir, order);
    const running = this.pending.get(dir);
    if (running !== undefined) return running;
    const work = this.ensureNow(order).finally(() => this.pending.delete(dir));
    this.pending.set(dir, work);
    return work;
  }

  /** Renews every known certificate that is due (the daemon runs this on a timer). */
  async renewDue(): Promise<void> {
    for (const order of this.known.values()) {
      await this.ensure(order).catch(() => undefined);
    }
  }

  private async ensureNow(order: AcmeOrder): Promise<CertificatePaths> {
    const paths = this.paths(order);
    const current = existsSync(paths.cert) ? checkCertificate(paths, this.now()) : null;
    const valid = current !== null && current.ok;
    const due = !valid || current.notAfter.getTime() - this.now().getTime() <= order.renewBeforeMs;
    if (!due) return paths;
    try {
      const notAfter = await this.order(order, paths);
      this.opts.record({
        hosts: order.hosts,
        kind: valid ? 'acme.renewed' : 'acme.issued',
        message: `certificate for ${order.hosts.join(', ')} ${valid ? 'renewed' : 'issued'}, valid until ${notAfter.toISOString()}`,
        notAfter: notAfter.toISOString(),
      });
      return paths;
    } catch (err) {
      const why = describe(err);
      const message = `cannot obtain a certificate for ${order.hosts.join(', ')} from ${order.directory}: ${why}`;
      this.opts.record({
        hosts: order.hosts,
        kind: 'acme.failed',
        message: valid ? `${message} (the current certificate keeps serving)` : message,
      });
      if (valid) return paths;
      throw new HotswapError('ACME_FAILED', message, { cause: err });
    }
  }

  /** One ACME order: account, CSR, HTTP-01 through the proxy, the chain written to disk. */
  private async order(order: AcmeOrder, paths: CertificatePaths): Promise<Date> {
    const acme = await acmeClient();
    const ca = order.directoryCa === null ? undefined : readFileSync(order.directoryCa);
    // acme-client talks through one axios instance: the directory's CA is trusted there, and
    // no call may hang a renewal for ever.
    acme.axios.defaults.httpsAgent = new https.Agent({ ca });
    acme.axios.defaults.timeout = REQUEST_TIMEOUT_MS;
    await reachable(order.directory, ca);
    const client = new acme.Client({
      directoryUrl: order.directory,
      accountKey: await this.accountKey(),
      backoffAttempts: 8,
      backoffMin: 250,
      backoffMax: 4000,
    });
    const [key, csr] = await acme.crypto.createCsr({
      commonName: order.hosts[0]!,
      altNames: order.hosts,
    });
    const cert = await client.auto({
      csr,
      email: order.email,
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      // The names may not resolve here; the ACME server's own validation is the check.
      skipChallengeVerification: true,
      challengeCreateFn: (_authz, challenge, keyAuthorization) =>
        this.opts.answerer.setChallenge(challenge.token, keyAuthorization),
      challengeRemoveFn: (_authz, challenge) => this.opts.answerer.clearChallenge(challenge.token),
    });
    writeSecret(paths.key, key);
    writeSecret(paths.cert, Buffer.from(cert));
    const checked = checkCertificate(paths, this.now());
    if (!checked.ok) throw new Error(`the issued certificate does not load: ${checked.message}`);
    return checked.notAfter;
  }

  private async accountKey(): Promise<Buffer> {
    const file = join(this.opts.dir, 'account.key');
    if (existsSync(file)) return readFileSync(file);
    const key = await (await acmeClient()).crypto.createPrivateKey();
    writeSecret(file, key);
    return key;
  }

  /** One folder per directory and set of names. */
  private folder(order: AcmeOrder): string {
    const id = createHash('sha256')
      .update(`${order.directory}\n${[...order.hosts].sort().join(',')}`)
      .digest('hex')
      .slice(0, 16);
    const dir = join(this.opts.dir, id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }
}

/**
 * acme-client (with axios and its crypto) is loaded on the first order, not at daemon start: it
 * is a quarter of the daemon's start-up memory and most homes never use ACME.
 */
function acmeClient(): Promise<typeof import('acme-client')> {
  return import('acme-client');
}

/** One ACME request's limit. */
const REQUEST_TIMEOUT_MS = 15_000;

/**
 * The directory answers: a clear error naming it when it does not (acme-client's own error for
 * a refused connection says nothing useful).
 */
function reachable(directory: string, ca: Buffer | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = https.get(directory, { ca, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else reject(new Error(`the directory answered ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`the directory cannot be reached (${err.code ?? err.message})`)),
    );
  });
}

/** Written aside, mode 0600, then renamed into place. */
function writeSecret(path: string, data: Buffer): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, data, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e.code !== undefined && e.message !== undefined && !e.message.includes(e.code)) {
    return `${e.code}: ${e.message}`;
  }
  return e.message ?? String(err);
}
