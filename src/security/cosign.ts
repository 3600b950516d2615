// cosign-compatible signature checks (sigstore/cosign specs/SIGNATURE_SPEC.md): the signature
// of image digest D lives in the same repository under the tag `sha256-<hex>.sig`, an OCI image
// manifest whose layers are simple-signing payloads (media type below), each with its base64
// ECDSA P-256 / SHA-256 signature in the `dev.cosignproject.cosign/signature` annotation.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { ImageRef } from '../spec/image-ref.js';
import type { RegistryClient } from './registry.js';

export const SIMPLE_SIGNING_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const COSIGN_PAYLOAD_TYPE = 'cosign container image signature';

/** `sha256:abc…` → `sha256-abc….sig` */
export function signatureTag(digest: string): string {
  return `${digest.replace(':', '-')}.sig`;
}

/** The simple-signing payload `cosign sign` signs for an image digest. */
export function simpleSigningPayload(dockerReference: string, digest: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': dockerReference },
        image: { 'docker-manifest-digest': digest },
        type: COSIGN_PAYLOAD_TYPE,
      },
      optional: null,
    }),
  );
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

interface Layer {
  mediaType?: unknown;
  digest?: unknown;
  annotations?: Record<string, unknown>;
}

/** Whether a listed key signed this digest; otherwise the reason, never a throw on bad data. */
export async function checkSignature(
  registry: RegistryClient,
  ref: ImageRef,
  digest: string,
  pems: string[],
): Promise<SignatureCheck> {
  const keys = pems.map((pem) => createPublicKey(pem));
  const tag = signatureTag(digest);
  const reply = await registry.manifest(ref, tag);
  if (reply.status === 404) return { ok: false, reason: `unsigned: no signature (tag ${tag})` };
  if (reply.status !== 200)
    return { ok: false, reason: `the registry answered ${reply.status} for the signature ${tag}` };
  const layers = signatureLayers(reply.body);
  if (typeof layers === 'string') return { ok: false, reason: layers };
  const reasons: string[] = [];
  for (const layer of layers) {
    const reason = await checkLayer(registry, ref, digest, layer, keys);
    if (reason === null) return { ok: true };
    reasons.push(reason);
  }
  return { ok: false, reason: reasons.join('; ') || `signature manifest ${tag} has no signature` };
}

function signatureLayers(body: Buffer): Layer[] | string {
  let manifest: { layers?: unknown };
  try {
    manifest = JSON.parse(body.toString('utf8')) as { layers?: unknown };
  } catch {
    return 'the signature manifest is not valid JSON';
  }
  if (!Array.isArray(manifest.layers)) return 'the signature manifest has no layers';
  return (manifest.layers as Layer[]).filter((l) => l?.mediaType === SIMPLE_SIGNING_TYPE);
}

/** null when the layer is a valid signature of `digest` by one of `keys`, else why not. */
async function checkLayer(
  registry: RegistryClient,
  ref: ImageRef,
  digest: string,
  layer: Layer,
  keys: KeyObject[],
): Promise<string | null> {
  const signature = layer.annotations?.[SIGNATURE_ANNOTATION];
  if (typeof signature !== 'string') return 'a signature layer has no signature annotation';
  if (typeof layer.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(layer.digest))
    return 'a signature layer has no valid digest';
  const blob = await registry.blob(ref, layer.digest);
  if (blob.status !== 200) return `the signature payload ${layer.digest} answered ${blob.status}`;
  const payload = blob.body;
  if (`sha256:${createHash('sha256').update(payload).digest('hex')}` !== layer.digest)
    return `the signature payload does not match its digest ${layer.digest} (truncated or altered)`;
  const signed = payloadDigest(payload);
  if (signed === null) return 'the signature payload is not a valid simple-signing JSON document';
  if (signed !== digest) return `the signature payload is for ${signed}, not ${digest}`;
  const raw = Buffer.from(signature, 'base64');
  const byKey = keys.some((key) => {
    try {
      return verify('sha256', payload, key, raw);
    } catch {
      return false; // a malformed DER signature verifies nothing
    }
  });
  return byKey ? null : 'signed, but not by a key the policy lists';
}

function payloadDigest(payload: Buffer): string | null {
  try {
    const doc = JSON.parse(payload.toString('utf8')) as {
      critical?: { type?: unknown; image?: Record<string, unknown> };
    };
    if (doc.critical?.type !== COSIGN_PAYLOAD_TYPE) return null;
    const image = doc.critical.image ?? {};
    // The spec's example writes "Docker-manifest-digest"; cosign itself writes it lowercase.
    const d = image['docker-manifest-digest'] ?? image['Docker-manifest-digest'];
    return typeof d === 'string' ? d : null;
  } catch {
    return null;
  }
}
