// Long operations answer with NDJSON: progress events as they happen, then one result or error
// line. The rollout keeps going if the client hangs up; the journal still records it.
import { toHotswapError } from '../errors.js';
import type { Reporter } from '../controller/index.js';

export type StreamLine =
  | { type: 'progress'; event: Parameters<Reporter>[0] }
  | { type: 'result'; result: unknown }
  | { type: 'error'; error: { code: string; message: string; details?: unknown } }
  | { type: 'log'; instance: string; revision: number; text: string };

export function ndjsonResponse(run: (report: Reporter) => Promise<unknown>): Response {
  const encoder = new TextEncoder();
  let open = true;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (line: StreamLine): void => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(JSON.stringify(line) + '\n'));
        } catch {
          open = false; // client went away
        }
      };
      run((event) => send({ type: 'progress', event }))
        .then((result) => send({ type: 'result', result }))
        .catch((err: unknown) => send({ type: 'error', error: toHotswapError(err).toJSON() }))
        .finally(() => {
          if (open) controller.close();
          open = false;
        });
    },
    cancel() {
      open = false;
    },
  });
  return new Response(stream, { headers: { 'content-type': 'application/x-ndjson' } });
}

/**
 * An NDJSON stream with no end of its own (logs -f): it runs until the client hangs up, which
 * aborts the signal `run` is given.
 */
export function followResponse(
  request: AbortSignal,
  run: (signal: AbortSignal, emit: (line: StreamLine) => void) => Promise<void>,
): Response {
  const encoder = new TextEncoder();
  const stop = new AbortController();
  request.addEventListener('abort', () => stop.abort(), { once: true });
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const emit = (line: StreamLine): void => {
        if (stop.signal.aborted) return;
        try {
          controller.enqueue(encoder.encode(JSON.stringify(line) + '\n'));
        } catch {
          stop.abort();
        }
      };
      run(stop.signal, emit)
        .then(() => emit({ type: 'result', result: null }))
        .catch((err: unknown) => emit({ type: 'error', error: toHotswapError(err).toJSON() }))
        .finally(() => {
          if (!stop.signal.aborted) controller.close();
        });
    },
    cancel() {
      stop.abort();
    },
  });
  return new Response(stream, { headers: { 'content-type': 'application/x-ndjson' } });
}
