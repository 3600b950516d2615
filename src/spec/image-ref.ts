// Image references as Docker reads them: [registry[:port]/]path[:tag][@sha256:digest]. Checked
// when the spec is read, so "Web:latest" or "web:v 1" fails at its line instead of at the engine,
// and split for pulling (which registry to log in to, which tag or digest to ask for).

export interface ImageRef {
  /** Registry host[:port]; null means Docker Hub. */
  registry: string | null;
  /** Repository path without the registry, e.g. "library/nginx" is written "nginx". */
  path: string;
  tag: string | null;
  /** "sha256:<64 hex>" when the reference pins a digest. */
  digest: string | null;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?$/;

/** The parts of an image reference, or a short reason why it is not one. */
export function parseImageRef(text: string): ImageRef | string {
  if (text === '') return 'empty';
  if (/\s/.test(text)) return 'contains whitespace';
  let rest = text;
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest))
      return `digest "${digest}" is not "sha256:" and 64 lowercase hex digits`;
  }
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  // As in Docker: the first part names a registry when it has a dot, a port or is localhost.
  const hasRegistry =
    slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first.startsWith('['));
  const registry = hasRegistry ? first : null;
  if (registry !== null && !HOST.test(registry))
    return `registry "${registry}" is not a host[:port]`;
  let path = hasRegistry ? rest.slice(slash + 1) : rest;
  let tag: string | null = null;
  const colon = path.lastIndexOf(':');
  if (colon >= 0 && !path.slice(colon).includes('/')) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag))
      return `tag "${tag}" may only hold letters, digits, "_", "." and "-" (at most 128)`;
  }
  if (path === '') return 'no repository name';
  for (const component of path.split('/')) {
    if (component !== component.toLowerCase()) return `repository "${path}" must be lowercase`;
    if (!COMPONENT.test(component))
      return `"${component}" is not a repository name part (lowercase letters, digits, ".", "_", "-")`;
  }
  return { registry, path, tag, digest };
}

/** The reference to pull by: the digest when pinned, else the tag ("latest" when none). */
export function pullReference(ref: ImageRef): { repository: string; tagOrDigest: string } {
  const repository = ref.registry === null ? ref.path : `${ref.registry}/${ref.path}`;
  return { repository, tagOrDigest: ref.digest ?? ref.tag ?? 'latest' };
}

/** The key ~/.docker/config.json uses for a registry's credentials. */
export function registryAuthKey(ref: ImageRef): string {
  return ref.registry ?? 'https://index.docker.io/v1/';
}
