// The image policy an admin sets with `hotswap policy set -f policy.yaml`: which registries and
// repositories images may come from, no `:latest`, a pinned digest, and cosign signatures by
// listed keys. Stored by the daemon; a deployer's spec cannot change it.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { parseImageRef, type ImageRef } from '../spec/image-ref.js';
import { invalidDoc, parseYamlDoc } from './yaml-doc.js';

const PolicyFile = z.strictObject({
  images: z
    .strictObject({
      registries: z
        .array(z.string(), {
          error: 'expected a list of registries like "registry.example.com:5000"',
        })
        .optional(),
      repositories: z
        .array(z.string(), { error: 'expected a list of repositories like "registry/team/*"' })
        .optional(),
      refuseLatest: z.boolean({ error: 'expected true or false' }).optional(),
      requireDigest: z.boolean({ error: 'expected true or false' }).optional(),
      signatures: z
        .strictObject({
          keys: z
            .array(z.string(), { error: 'expected a list of PEM public keys' })
            .min(1, 'expected at least one public key'),
        })
        .optional(),
    })
    .prefault({}),
});

export interface ImagePolicy {
  /** Registries (host[:port], `docker.io` for Docker Hub); null = any. */
  registries: string[] | null;
  /** `registry/path` exactly, or a prefix written `registry/team/*`; null = any. */
  repositories: string[] | null;
  refuseLatest: boolean;
  requireDigest: boolean;
  /** PEM public keys (ECDSA P-256, as `cosign generate-key-pair` writes); [] = no signature check. */
  keys: string[];
}

export const OPEN_POLICY: ImagePolicy = {
  registries: null,
  repositories: null,
  refuseLatest: false,
  requireDigest: false,
  keys: [],
};

/** Parses policy.yaml; every problem with file:line:col, nothing applied on error. */
export function parseImagePolicy(text: string, file: string): ImagePolicy {
  const { data, problem } = parseYamlDoc(text, file, PolicyFile, 'hotswap policy');
  const images = data.images;
  const keys = images.signatures?.keys ?? [];
  const bad = keys.flatMap((pem, i) => {
    const why = keyProblem(pem);
    return why ? [problem(['images', 'signatures', 'keys', i], why)] : [];
  });
  if (bad.length) throw invalidDoc(file, 'hotswap policy', bad);
  return {
    registries: images.registries ?? null,
    repositories: images.repositories ?? null,
    refuseLatest: images.refuseLatest ?? false,
    requireDigest: images.requireDigest ?? false,
    keys,
  };
}

function keyProblem(pem: string): string | null {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    return `not a PEM public key (${(err as Error).message})`;
  }
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType !== 'ec' || d?.namedCurve !== 'prime256v1')
    return `expected an ECDSA P-256 key (cosign's), found ${key.asymmetricKeyType}${d?.namedCurve ? ` ${d.namedCurve}` : ''}`;
  return null;
}

/** Registry as the policy names it: Docker Hub is `docker.io`. */
export function registryName(ref: ImageRef): string {
  return ref.registry ?? 'docker.io';
}

/** The checks that need no network: registry, repository, tag, digest. Reasons, or []. */
export function staticImageProblems(image: string, policy: ImagePolicy): string[] {
  const ref = parseImageRef(image);
  if (typeof ref === 'string') return [`"${image}" is not an image reference: ${ref}`];
  const problems: string[] = [];
  const registry = registryName(ref);
  const repository = `${registry}/${ref.path}`;
  if (policy.registries && !policy.registries.includes(registry))
    problems.push(`registry ${registry} is not allowed (allowed: ${policy.registries.join(', ')})`);
  if (policy.repositories && !policy.repositories.some((r) => repoMatches(repository, r)))
    problems.push(
      `repository ${repository} is not allowed (allowed: ${policy.repositories.join(', ')})`,
    );
  if (policy.refuseLatest && ref.digest === null && (ref.tag === null || ref.tag === 'latest'))
    problems.push(`"${image}" means :latest, which the policy refuses: name a version or a digest`);
  if ((policy.requireDigest || policy.keys.length > 0) && ref.digest === null)
    problems.push(
      `"${image}" has no digest; the policy requires one (${image}@sha256:…)` +
        (policy.keys.length ? ': signatures are checked for a digest' : ''),
    );
  return problems;
}

function repoMatches(repository: string, rule: string): boolean {
  return rule.endsWith('/*') ? repository.startsWith(rule.slice(0, -1)) : repository === rule;
}
