// Live resources (issue 16): a change of `resources` only is applied to the running instances
// with the Engine's update call — same containers, no restart, no new revision — and checked
// back with inspect. All instances are checked before any is changed, so a refusal (memory
// below what an instance uses now) leaves every one as it was.
import { HotswapError } from '../errors.js';
import type { Runtime } from '../runtime/types.js';
import { formatBytes } from '../spec/resources.js';
import type { ResourcesSpec, ServiceSpec } from '../spec/types.js';

type Note = (event: string, message: string, data: object) => void;

interface Plan {
  id: string;
  from: ResourcesSpec;
  memoryInUse: number;
}

/** Resizes the running instances whose limits differ from the spec's; returns how many. */
export async function resizeInstances(
  runtime: Runtime,
  spec: ServiceSpec,
  previous: ResourcesSpec | undefined,
  note: Note,
): Promise<number> {
  noteLifted(spec, previous, note);
  const wanted = spec.resources;
  if (!wanted || !runtime.instanceResources || !runtime.updateResources) return 0;
  const running = (await runtime.listInstances({ service: spec.name })).filter(
    (i) => i.state === 'running',
  );
  const plans: Plan[] = [];
  for (const i of running) {
    const now = await runtime.instanceResources(i.id);
    if (!differs(wanted, now.limits)) continue;
    plans.push({ id: i.id, from: now.limits, memoryInUse: now.memoryInUse });
  }
  refuseBelowUsage(spec.name, wanted, plans);
  for (const p of plans) {
    await runtime.updateResources(p.id, wanted);
    const after = await runtime.instanceResources(p.id);
    if (differs(wanted, after.limits))
      throw new HotswapError(
        'DOCKER_API',
        `instance ${p.id.slice(0, 12)} of ${spec.name}: the engine accepted the update but inspect shows ${describe(after.limits)}`,
        { details: { id: p.id, wanted, actual: after.limits } },
      );
    note(
      'resources.updated',
      `${p.id.slice(0, 12)} resized live: ${describe(p.from)} → ${describe(after.limits)}`,
      { id: p.id, from: p.from, to: after.limits },
    );
  }
  return plans.length;
}

/**
 * Docker cannot take a limit off a running container, so a limit removed from the spec applies
 * to instances started from now on; the running ones keep theirs, and the user is told so.
 */
function noteLifted(spec: ServiceSpec, previous: ResourcesSpec | undefined, note: Note): void {
  const now = spec.resources ?? {};
  const lifted = (['cpus', 'memory', 'memorySwap', 'pids'] as const).filter(
    (k) => previous?.[k] !== undefined && now[k] === undefined,
  );
  if (lifted.length === 0) return;
  note(
    'resources.kept',
    `${lifted.join(', ')} removed from the spec: running instances keep their limit until they are replaced (hotswap restart ${spec.name}); new instances start without it`,
    { lifted },
  );
}

/** A field the spec sets that the container does not have (unset fields are left alone). */
function differs(wanted: ResourcesSpec, actual: ResourcesSpec): boolean {
  return (['cpus', 'memory', 'memorySwap', 'pids'] as const).some(
    (k) => wanted[k] !== undefined && wanted[k] !== actual[k],
  );
}

function refuseBelowUsage(service: string, wanted: ResourcesSpec, plans: Plan[]): void {
  if (wanted.memory === undefined) return;
  const over = plans.filter((p) => p.memoryInUse > wanted.memory!);
  if (over.length === 0) return;
  const figures = over
    .map((p) => `${p.id.slice(0, 12)} uses ${formatBytes(p.memoryInUse)}`)
    .join(', ');
  throw new HotswapError(
    'CONFLICT',
    `cannot lower the memory of ${service} to ${formatBytes(wanted.memory)}: ${figures} now; nothing was changed`,
    {
      details: {
        memory: wanted.memory,
        inUse: Object.fromEntries(over.map((p) => [p.id, p.memoryInUse])),
      },
    },
  );
}

export function describe(r: ResourcesSpec): string {
  const parts = [
    r.cpus !== undefined ? `cpus ${r.cpus}` : 'cpus unlimited',
    r.memory !== undefined ? `memory ${formatBytes(r.memory)}` : 'memory unlimited',
  ];
  if (r.memorySwap !== undefined)
    parts.push(`memorySwap ${r.memorySwap === -1 ? 'unlimited' : formatBytes(r.memorySwap)}`);
  if (r.pids !== undefined) parts.push(`pids ${r.pids}`);
  return parts.join(', ');
}
