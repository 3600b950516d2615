// Putting an image of the host's engine into the lab registry. The host's dockerd does not trust
// the lab registry (that would need --insecure-registry, a change to the host engine), so the
// image goes through node1: `docker save` on the host, `docker load` into node1 (skipped when
// node1 has that image ID already), tag, push. Nodes then pull it by digest.

import { HotswapError } from '../../src/errors.js';
import { labConfig } from './config.js';
import type { LabConfig } from './config.js';
import { run, runAsync } from './sh.js';
import { dockerOn } from './swarm.js';

export interface PushedImage {
  /** <registry>/<repo>:<tag> */
  tagRef: string;
  /** <registry>/<repo>@sha256:…, what a service spec should name. */
  digestRef: string;
}

function imageId(args: string[], ref: string): string | null {
  const res = run('docker', [...args, 'image', 'inspect', '--format', '{{.Id}}', ref], {
    allowFail: true,
  });
  return res.status === 0 ? res.stdout.trim() : null;
}

/** `repo:tag` of a local reference, without any registry host. */
export function repoAndTag(localTag: string): { repo: string; tag: string } {
  const at = localTag.lastIndexOf(':');
  const slash = localTag.lastIndexOf('/');
  const repo = at > slash ? localTag.slice(0, at) : localTag;
  const tag = at > slash ? localTag.slice(at + 1) : 'latest';
  const parts = repo.split('/');
  // Drop a registry host (has a dot, a colon or is localhost).
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0] ?? '')) parts.shift();
  return { repo: parts.join('/'), tag };
}

/** Copies into node1 those of `tags` it lacks (same image ID), in one `docker save | load`. */
async function loadIntoFirstNode(tags: string[], config: LabConfig): Promise<void> {
  const node = firstNode(config);
  const missing: string[] = [];
  for (const tag of tags) {
    const hostId = imageId([], tag);
    if (!hostId)
      throw new HotswapError('IMAGE_NOT_FOUND', `lab push: no image ${tag} on the host engine`);
    if (imageId(['-H', node.dockerHost], tag) !== hostId) missing.push(tag);
  }
  if (missing.length === 0) return;
  await runAsync('bash', [
    '-c',
    'set -o pipefail; h="$1"; shift; docker save "$@" | docker -H "$h" load -q',
    'push',
    node.dockerHost,
    ...missing,
  ]);
}

function firstNode(config: LabConfig): LabConfig['nodes'][number] {
  const node = config.nodes[0];
  if (!node) throw new HotswapError('USAGE', 'lab: no nodes');
  return node;
}

async function pushLoaded(localTag: string, as: string, config: LabConfig): Promise<PushedImage> {
  const node = firstNode(config);
  const { repo, tag } = repoAndTag(as);
  const tagRef = `${config.registry}/${repo}:${tag}`;
  dockerOn(node, ['tag', localTag, tagRef]);
  const out = await runAsync('docker', ['-H', node.dockerHost, 'push', tagRef]);
  const digest = /digest: (sha256:[0-9a-f]{64})/.exec(out.stdout)?.[1];
  if (!digest) {
    throw new HotswapError(
      'REGISTRY_UNAVAILABLE',
      `lab push ${tagRef}: no digest in: ${out.stdout.trim()}`,
    );
  }
  return { tagRef, digestRef: `${config.registry}/${repo}@${digest}` };
}

/**
 * Pushes `localTag` (an image of the host's engine) to the lab registry as <repo>:<tag>, or
 * as `as` when given; returns both references.
 */
export async function pushImage(
  localTag: string,
  opts: { as?: string; config?: LabConfig } = {},
): Promise<PushedImage> {
  const config = opts.config ?? labConfig();
  await loadIntoFirstNode([localTag], config);
  return pushLoaded(localTag, opts.as ?? localTag, config);
}

/** Several images at once: one save | load for all, then one push each. */
export async function pushImages(
  localTags: string[],
  config: LabConfig = labConfig(),
): Promise<PushedImage[]> {
  await loadIntoFirstNode(localTags, config);
  const out: PushedImage[] = [];
  for (const tag of localTags) out.push(await pushLoaded(tag, tag, config));
  return out;
}
