// Self-signed certificates for tests and benchmarks, made with the openssl CLI (Node has no
// X.509 writer): ECDSA P-256, the first name as the CN, all of them as DNS names, and optional
// IP addresses. Not part of the public API.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface MadeCertificate {
  cert: string;
  key: string;
}

export function makeCertificate(
  dir: string,
  label: string,
  names: string[],
  opts: { days?: number; ips?: string[] } = {},
): MadeCertificate {
  const cert = join(dir, `${label}.crt`);
  const key = join(dir, `${label}.key`);
  const alt = [...names.map((n) => `DNS:${n}`), ...(opts.ips ?? []).map((ip) => `IP:${ip}`)];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      String(opts.days ?? 2),
      '-subj',
      `/CN=${names[0]}`,
      '-addext',
      `subjectAltName=${alt.join(',')}`,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}
