// Long operations answer with NDJSON: progress events as they happen, then one result or error
// line. The rollout keeps going if the client hangs up; the journal still records it.
import { toHotswapError, type HotswapError } from '../errors.js';
import type { Reporter } from '../controller/index.js';

export type StreamLine =
  | { type: 'progress'; event: Parameters<Reporter>[0] }
  | { type: 'result'; result: unknown }
  | { type: 'error'; error: { code: string; message: string; details?: unknown } }
  | { type: 'log'; instance: string; revision: number; text: string };

/** How a long operation ended: its result, or the error it threw. */
export type StreamOutcome = { result: unknown } | { error: ReturnType<HotswapError['toJSON']> };

// The audit (src/api/auth.ts) waits on this to record an operation's outcome even when the
// client hung up before the end of the stream.
const outcomes = new WeakMap<Response, Promise<StreamOutcome>>();

export function streamOutcome(res: Response): Promise<StreamOutcome> | undefined {
  return outcomes.get(res);
}

export function ndjsonResponse(run: (report: Reporter) => Promise<unknown>): Response {
  const encoder = new TextEncoder();
  let open = true;
  let settle!: (o: StreamOutcome) => void;
  const outcome = new Promise<StreamOutcome>((resolve) => (settle = resolve));
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
        .then((result) => {
          settle({ result });
          send({ type: 'result', result });
        })
        .catch((err: unknown) => {
          const error = toHotswapError(err).toJSON();
          settle({ error });
          send({ type: 'error', error });
        })
        .finally(() => {
          if (open) controller.close();
          open = false;
        });
    },
    cancel() {
      open = false;
    },
  });
  const res = new Response(stream, { headers: { 'content-type': 'application/x-ndjson' } });
  outcomes.set(res, outcome);
  return res;
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
