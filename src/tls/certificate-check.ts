// Whether a certificate file and its key file can be served: both readable PEM, the key the
// certificate's own, the certificate not expired. One check for the spec (`up` refuses with the
// field's file:line:col) and for the proxy (which reads the files itself and reads them again
// when they change).
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface CertificateFiles {
  cert: string;
  key: string;
}

export type CertificateCheck =
  | { ok: true; cert: Buffer; key: Buffer; notAfter: Date; names: string[] }
  | { ok: false; field: 'cert' | 'key'; message: string };

export function checkCertificate(files: CertificateFiles, now = new Date()): CertificateCheck {
  const cert = read(files.cert);
  if (typeof cert === 'string') return { ok: false, field: 'cert', message: cert };
  const key = read(files.key);
  if (typeof key === 'string') return { ok: false, field: 'key', message: key };
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    const message = `${files.cert} is not a PEM certificate (${(err as Error).message})`;
    return { ok: false, field: 'cert', message };
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    const message = `${files.key} is not a PEM private key (${(err as Error).message})`;
    return { ok: false, field: 'key', message };
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    const message = `${files.key} is not the key of the certificate ${files.cert}`;
    return { ok: false, field: 'key', message };
  }
  const notAfter = new Date(leaf.validTo);
  if (notAfter.getTime() <= now.getTime()) {
    return {
      ok: false,
      field: 'cert',
      message: `${files.cert} expired on ${notAfter.toISOString()}`,
    };
  }
  return { ok: true, cert, key, notAfter, names: dnsNames(leaf) };
}

function read(path: string): Buffer | string {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return `cannot read ${path} (${code})`;
  }
}

/** Subject alternative names (DNS), lowercase. */
function dnsNames(cert: X509Certificate): string[] {
  const names: string[] = [];
  for (const part of (cert.subjectAltName ?? '').split(',')) {
    const m = /^\s*DNS:(.+)$/.exec(part);
    if (m !== null) names.push(m[1]!.trim().toLowerCase());
  }
  return names;
}
