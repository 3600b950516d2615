// `hotswap logs -f`: every instance's output line by line, following instances that a rollout
// starts while we watch, until the client goes away.
import type { LogRequest, Runtime } from '../runtime/types.js';

export interface LogLine {
  instance: string;
  revision: number;
  text: string;
}

const DISCOVER_EVERY_MS = 1000;

export async function followServiceLogs(
  runtime: Runtime,
  service: string,
  opts: LogRequest,
  signal: AbortSignal,
  emit: (line: LogLine) => void,
): Promise<void> {
  const followed = new Set<string>();
  const tasks: Promise<void>[] = [];
  for (let first = true; !signal.aborted; first = false) {
    for (const instance of await runtime.listInstances({ service })) {
      if (followed.has(instance.id) || instance.state !== 'running') continue;
      followed.add(instance.id);
      // An instance started after we began shows its output from its first line.
      const from = first ? opts : { ...opts, tail: undefined, since: undefined };
      const meta = { instance: instance.name, revision: instance.revision };
      tasks.push(followOne(runtime, instance.id, from, signal, (text) => emit({ ...meta, text })));
    }
    await new Promise((resolve) => setTimeout(resolve, DISCOVER_EVERY_MS).unref());
  }
  await Promise.all(tasks);
}

async function followOne(
  runtime: Runtime,
  id: string,
  opts: LogRequest,
  signal: AbortSignal,
  emit: (text: string) => void,
): Promise<void> {
  let pending = '';
  try {
    for await (const chunk of runtime.followLogs(id, opts, signal)) {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(emit);
    }
  } catch {
    // the instance went away: its lines so far were sent
  }
  if (pending) emit(pending);
}
