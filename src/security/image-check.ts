// Applies the image policy to the services about to be deployed, before any instance starts.
import { HotswapError } from '../errors.js';
import { parseImageRef } from '../spec/image-ref.js';
import type { ServiceSpec } from '../spec/index.js';
import { checkSignature } from './cosign.js';
import { staticImageProblems, type ImagePolicy } from './image-policy.js';
import type { RegistryClient } from './registry.js';

/** Throws IMAGE_REFUSED naming the service, the image and why; a registry error as it is. */
export async function enforceImagePolicy(
  services: ServiceSpec[],
  policy: ImagePolicy,
  registry: RegistryClient,
): Promise<void> {
  for (const svc of services) {
    const problems = staticImageProblems(svc.image, policy);
    const ref = parseImageRef(svc.image);
    if (problems.length === 0 && policy.keys.length > 0 && typeof ref !== 'string' && ref.digest) {
      const check = await checkSignature(registry, ref, ref.digest, policy.keys);
      if (!check.ok) problems.push(check.reason);
    }
    if (problems.length)
      throw new HotswapError(
        'IMAGE_REFUSED',
        `service ${svc.name}: image ${svc.image} refused by the image policy: ${problems.join('; ')}`,
        { details: { service: svc.name, image: svc.image, problems } },
      );
  }
}
