// `strategy: recreate` with `checkpoint: true` (issue 16) runs only where docker checkpoint works.
// The daemon finds that out once at start; a spec that asks for it on a host without it is
// refused before anything changes, with the reason, instead of half-working.
import { HotswapError } from '../errors.js';
import type { CheckpointSupport } from '../runtime/index.js';
import type { ServiceSpec } from '../spec/types.js';

export async function assertCheckpointUsable(
  services: ServiceSpec[],
  support: Promise<CheckpointSupport> | undefined,
): Promise<void> {
  const asking = services.filter((s) => s.strategy.type === 'recreate' && s.strategy.checkpoint);
  if (asking.length === 0) return;
  const names = asking.map((s) => s.name).join(', ');
  const found = support ? await support : { supported: false, reason: 'support was not checked' };
  if (!found.supported)
    throw new HotswapError(
      'UNSUPPORTED',
      `${names}: strategy recreate with checkpoint: true needs docker checkpoint, which this host does not support: ${found.reason}. Remove checkpoint: true to recreate without carrying process state.`,
      { details: { services: asking.map((s) => s.name), reason: found.reason } },
    );
  // Restoring a checkpoint is not built yet: refuse rather than recreate without the state.
  throw new HotswapError(
    'UNSUPPORTED',
    `${names}: docker checkpoint works on this host (${found.reason}), but hotswap does not restore checkpoints yet. Remove checkpoint: true.`,
    { details: { services: asking.map((s) => s.name) } },
  );
}
