// State hand-off: the daemon asks an old instance for its state and gives it to a new one before
// the new one takes traffic. Over HTTP the state streams through the daemon (GET from the old
// instance piped into a POST to the new one) and is never held whole; a byte counter in the
// pipe stops it past maxBytes. With exec, export is the command's stdout and import gets the
// state as a file (HOTSWAP_HANDOFF_FILE), copied in with the archive API.
import { HotswapError, toHotswapError } from '../errors.js';
import type { HandoffEndpoint, HandoffSpec } from '../spec/types.js';
import type { ReloadRuntime } from './runtime.js';

export interface HandoffInstance {
  id: string;
  address: string;
}

export interface HandoffResult {
  bytes: number;
  ms: number;
}

export const HANDOFF_FILE = '/tmp/hotswap-handoff';

type Bytes = ReadableStream<Uint8Array>;

export async function handOff(
  runtime: () => ReloadRuntime,
  spec: HandoffSpec,
  from: HandoffInstance,
  to: HandoffInstance,
): Promise<HandoffResult> {
  const t0 = Date.now();
  const signal = AbortSignal.timeout(spec.timeoutMs);
  const counter = byteLimit(spec.maxBytes);
  try {
    const state = (
      await exportState(runtime, spec.export, from, signal, spec.timeoutMs)
    ).pipeThrough(counter.stream);
    await importState(runtime, spec.import, to, state, signal, spec.timeoutMs);
  } catch (err) {
    throw failure(err, counter, signal, spec);
  }
  return { bytes: counter.bytes(), ms: Date.now() - t0 };
}

/**
 * The state of an instance read whole, bounded by maxBytes and the timeout: for `recreate`, where
 * the old instance stops before its replacement starts, so the daemon holds the state between.
 */
export async function captureState(
  runtime: () => ReloadRuntime,
  spec: HandoffSpec,
  from: HandoffInstance,
): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(spec.timeoutMs);
  const counter = byteLimit(spec.maxBytes);
  try {
    const state = (
      await exportState(runtime, spec.export, from, signal, spec.timeoutMs)
    ).pipeThrough(counter.stream);
    return new Uint8Array(await new Response(state).arrayBuffer());
  } catch (err) {
    throw failure(err, counter, signal, spec);
  }
}

/** Gives a captured state to a new instance (the import half of a hand-off). */
export async function restoreState(
  runtime: () => ReloadRuntime,
  spec: HandoffSpec,
  data: Uint8Array,
  to: HandoffInstance,
): Promise<HandoffResult> {
  const t0 = Date.now();
  const signal = AbortSignal.timeout(spec.timeoutMs);
  const counter = byteLimit(spec.maxBytes);
  try {
    const state = new Blob([data]).stream().pipeThrough(counter.stream);
    await importState(runtime, spec.import, to, state, signal, spec.timeoutMs);
  } catch (err) {
    throw failure(err, counter, signal, spec);
  }
  return { bytes: counter.bytes(), ms: Date.now() - t0 };
}

/** One error for a failed transfer: over maxBytes, past the timeout, or what went wrong. */
function failure(
  err: unknown,
  counter: ReturnType<typeof byteLimit>,
  signal: AbortSignal,
  spec: HandoffSpec,
): HotswapError {
  if (counter.over()) return counter.error();
  if (signal.aborted)
    return new HotswapError('TIMEOUT', `hand-off took longer than ${spec.timeoutMs} ms`);
  return new HotswapError('ROLLOUT_FAILED', `hand-off failed: ${toHotswapError(err).message}`);
}

async function exportState(
  runtime: () => ReloadRuntime,
  how: HandoffEndpoint,
  from: HandoffInstance,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<Bytes> {
  if (how.type === 'exec') {
    const r = await runtime().exec(from.id, how.command, { timeoutMs, signal });
    if (r.exitCode !== 0)
      throw new Error(
        `export ${how.command.join(' ')} exited with ${r.exitCode}: ${r.output.slice(-300)}`,
      );
    return new Blob([r.stdout]).stream();
  }
  const res = await fetch(`http://${from.address}${how.path}`, { signal });
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    throw new Error(`export GET ${how.path} answered ${res.status}`);
  }
  return res.body;
}

async function importState(
  runtime: () => ReloadRuntime,
  how: HandoffEndpoint,
  to: HandoffInstance,
  state: Bytes,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<void> {
  if (how.type === 'exec') {
    const data = new Uint8Array(await new Response(state).arrayBuffer());
    const rt = runtime();
    await rt.putFiles(to.id, '/', { [HANDOFF_FILE.slice(1)]: data });
    const r = await rt.exec(to.id, how.command, {
      timeoutMs,
      signal,
      env: { HOTSWAP_HANDOFF_FILE: HANDOFF_FILE },
    });
    if (r.exitCode !== 0)
      throw new Error(
        `import ${how.command.join(' ')} exited with ${r.exitCode}: ${r.output.slice(-300)}`,
      );
    return;
  }
  const res = await fetch(`http://${to.address}${how.path}`, {
    method: 'POST',
    body: state,
    headers: { 'content-type': 'application/octet-stream' },
    signal,
    duplex: 'half',
  });
  await res.body?.cancel();
  if (res.status >= 300) throw new Error(`import POST ${how.path} answered ${res.status}`);
}

/** Counts the bytes going through and errors the stream past `max`. */
function byteLimit(max: number) {
  let bytes = 0;
  let over = false;
  const error = () =>
    new HotswapError(
      'ROLLOUT_FAILED',
      `hand-off payload over maxBytes: more than ${max} bytes (${bytes} read when it was cut)`,
    );
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      bytes += chunk.byteLength;
      if (bytes > max) {
        over = true;
        controller.error(error());
        return;
      }
      controller.enqueue(chunk);
    },
  });
  return { stream, bytes: () => bytes, over: () => over, error };
}
