// Reaching a daemon on another host: its https URL, a bearer token, and how to trust its
// certificate: pinned by SHA-256 fingerprint (a self-signed one) or checked against a CA file.
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { buildConnector } from 'undici';
import { HotswapError } from '../errors.js';

export interface RemoteTarget {
  url: string;
  token: string | undefined;
  fingerprint: string | undefined;
  caFile: string | undefined;
}

export interface RemoteFlags {
  host?: string | undefined;
  token?: string | undefined;
  fingerprint?: string | undefined;
  ca?: string | undefined;
}

/** The remote daemon named by flags or env (HOTSWAP_HOST …); null = the local unix socket. */
export function remoteTarget(flags: RemoteFlags, env = process.env): RemoteTarget | null {
  const host = flags.host ?? env.HOTSWAP_HOST;
  if (!host) return null;
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new HotswapError(
      'USAGE',
      `--host: expected a URL like https://host:7443, found "${host}"`,
    );
  }
  if (url.protocol !== 'https:')
    throw new HotswapError('USAGE', `--host: the remote API speaks https only, found "${host}"`);
  return {
    url: url.origin,
    token: flags.token ?? env.HOTSWAP_TOKEN,
    fingerprint: normalizeFingerprint(flags.fingerprint ?? env.HOTSWAP_FINGERPRINT),
    caFile: flags.ca ?? env.HOTSWAP_CA,
  };
}

function normalizeFingerprint(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const hex = text
    .replace(/^sha256:/i, '')
    .replace(/:/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex))
    throw new HotswapError(
      'USAGE',
      `--fingerprint: expected the certificate's SHA-256 fingerprint (64 hex digits, colons allowed), found "${text}"`,
    );
  return hex;
}

/**
 * The TLS connector: with a fingerprint, the chain is not checked but the certificate must be
 * exactly the pinned one (checked before any request byte is sent); otherwise normal
 * verification against the CA file or the system's CAs.
 */
export function remoteConnector(target: RemoteTarget): buildConnector.connector {
  const pin = target.fingerprint;
  const ca = target.caFile ? readCa(target.caFile) : undefined;
  const base = buildConnector({
    rejectUnauthorized: pin === undefined,
    maxCachedSessions: 0, // every connection shows its certificate, so every one is checked
    ...(ca ? { ca } : {}),
  });
  return (options, callback) =>
    base(options, (err, socket) => {
      if (err !== null) return callback(err, null);
      if (pin === undefined) return callback(null, socket);
      const seen = (socket as TLSSocket).getPeerCertificate().fingerprint256?.replace(/:/g, '');
      if (seen === pin) return callback(null, socket);
      socket.destroy();
      callback(
        new HotswapError(
          'DAEMON_UNAVAILABLE',
          `the certificate of ${target.url} has fingerprint ${seen ?? '(none)'}, not the pinned ${pin}: refusing to send anything`,
        ),
        null,
      );
    });
}

function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new HotswapError('USAGE', `--ca: cannot read ${file}: ${(err as Error).message}`);
  }
}

/** A clearer message for TLS failures a user can fix with a flag. */
export function explainTlsError(err: unknown, url: string): HotswapError | null {
  const code = (err as { code?: string }).code ?? '';
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|CERT_/.test(code))
    return new HotswapError(
      'DAEMON_UNAVAILABLE',
      `cannot trust the certificate of ${url} (${code}): pin it with --fingerprint (printed in the daemon's log) or pass --ca`,
      { cause: err },
    );
  return null;
}
