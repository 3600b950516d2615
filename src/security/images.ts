// The daemon's image policy: kept in the store, set by an admin, enforced on every `up` before
// any instance starts. A refusal is journaled for the service, so `history` shows it.
import type { ServiceSpec } from '../spec/index.js';
import type { Store } from '../store/index.js';
import { isHotswapError } from '../errors.js';
import { enforceImagePolicy } from './image-check.js';
import { OPEN_POLICY, parseImagePolicy, type ImagePolicy } from './image-policy.js';
import { RegistryClient } from './registry.js';

export const REFUSED_EVENT = 'policy.refused';

export class ImagePolicies {
  constructor(
    private readonly store: Store,
    private readonly registry = new RegistryClient(),
  ) {}

  current(): {
    policy: ImagePolicy;
    file: string | null;
    setAt: string | null;
    setBy: string | null;
    text: string | null;
  } {
    const r = this.store.policy.get();
    if (!r) return { policy: OPEN_POLICY, file: null, setAt: null, setBy: null, text: null };
    return { policy: parseImagePolicy(r.text, r.file), ...r };
  }

  /** Parses first: a policy with errors changes nothing. */
  set(text: string, file: string, by: string): ImagePolicy {
    const policy = parseImagePolicy(text, file);
    this.store.policy.set({ file, text, setAt: new Date().toISOString(), setBy: by });
    return policy;
  }

  async enforce(services: ServiceSpec[]): Promise<void> {
    try {
      await enforceImagePolicy(services, this.current().policy, this.registry);
    } catch (err) {
      if (isHotswapError(err) && err.code === 'IMAGE_REFUSED') {
        const d = err.details as { service: string; image: string; problems: string[] };
        this.store.journal.append({
          service: d.service,
          event: REFUSED_EVENT,
          data: { image: d.image, reason: err.message },
        });
      }
      throw err;
    }
  }
}
