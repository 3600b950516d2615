// A self-signed X.509 v3 certificate for the remote API, built with node:crypto alone: an ECDSA
// P-256 key, the host names and addresses as subjectAltName, signed with ecdsa-with-SHA256.
import { generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { isIPv4 } from 'node:net';
import * as der from './der.js';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const COMMON_NAME = '2.5.4.3';
const BASIC_CONSTRAINTS = '2.5.29.19';
const EXT_KEY_USAGE = '2.5.29.37';
const SUBJECT_ALT_NAME = '2.5.29.17';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const DAY_MS = 86_400_000;

export interface SelfSigned {
  certPem: string;
  keyPem: string;
  fingerprint256: string;
}

/** `names`: DNS names and IPv4 addresses the certificate is valid for (::1 is always added). */
export function selfSignedCertificate(names: string[], days = 825): SelfSigned {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const name = der.sequence(der.set(der.sequence(der.oid(COMMON_NAME), der.utf8String('hotswap'))));
  const algorithm = der.sequence(der.oid(ECDSA_WITH_SHA256));
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, 16 bytes
  const tbs = der.sequence(
    der.explicit(0, der.unsignedInteger(Buffer.from([2]))), // v3
    der.unsignedInteger(serial),
    algorithm,
    name,
    der.sequence(
      der.utcTime(new Date(now - 3_600_000)),
      der.utcTime(new Date(now + days * DAY_MS)),
    ),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der.explicit(3, der.sequence(...extensions(names))),
  );
  const signature = sign('sha256', tbs, privateKey); // DER ECDSA-Sig-Value
  const cert = der.sequence(tbs, algorithm, der.bitString(signature));
  const certPem = toPem(cert);
  return {
    certPem,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    fingerprint256: new X509Certificate(certPem).fingerprint256,
  };
}

function extensions(names: string[]): Buffer[] {
  const ext = (id: string, critical: boolean, value: Buffer): Buffer =>
    der.sequence(der.oid(id), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
  const alt = [...new Set(names)].map((n) =>
    isIPv4(n)
      ? der.implicit(7, Buffer.from(n.split('.').map(Number)))
      : der.implicit(2, Buffer.from(n, 'ascii')),
  );
  alt.push(der.implicit(7, Buffer.concat([Buffer.alloc(15), Buffer.from([1])]))); // ::1
  return [
    // CA:TRUE so the certificate itself can be given as the trust anchor (--ca).
    ext(BASIC_CONSTRAINTS, true, der.sequence(der.boolean(true))),
    ext(EXT_KEY_USAGE, false, der.sequence(der.oid(SERVER_AUTH))),
    ext(SUBJECT_ALT_NAME, false, der.sequence(...alt)),
  ];
}

function toPem(derBytes: Buffer): string {
  const b64 = derBytes.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`;
}
