// The engine's event stream (GET /events) as an async iterable of parsed events.

import type { DockerClient } from './client.js';
import { labelFilters } from './labels.js';
import type { LabelSelector } from './labels.js';

export interface DockerEvent {
  /** container, image, volume, network, daemon, ... */
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope?: string;
  /** Unix seconds. */
  time: number;
  timeNano: number;
  /** Legacy fields, container events only. */
  status?: string;
  id?: string;
  from?: string;
}

export interface EventsOptions {
  labels?: LabelSelector;
  /** Event types, e.g. ["container"]. */
  types?: string[];
  /** Actions, e.g. ["start", "die", "health_status"]. */
  actions?: string[];
  containers?: string[];
  /** Replay events since (unix seconds, or a docker timestamp). */
  since?: number | string;
  until?: number | string;
  /** Ends the iteration (without an error). */
  signal?: AbortSignal;
}

export class EventsApi {
  constructor(private readonly client: DockerClient) {}

  /**
   * Yields events as the engine reports them until `signal` aborts, the consumer stops
   * iterating, or (with `until`) the window ends.
   */
  async *stream(opts: EventsOptions = {}): AsyncGenerator<DockerEvent> {
    const filters: Record<string, string[]> = {};
    if (opts.labels) filters.label = labelFilters(opts.labels);
    if (opts.types) filters.type = opts.types;
    if (opts.actions) filters.event = opts.actions;
    if (opts.containers) filters.container = opts.containers;
    if (opts.signal?.aborted) return;
    let res;
    try {
      res = await this.client.stream({
        path: '/events',
        query: {
          since: opts.since,
          until: opts.until,
          filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined,
        },
        signal: opts.signal,
      });
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    }
    let pending = '';
    try {
      for await (const chunk of res.body) {
        pending += chunk.toString('utf8');
        let nl: number;
        while ((nl = pending.indexOf('\n')) !== -1) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (line) yield JSON.parse(line) as DockerEvent;
        }
      }
      if (pending.trim()) yield JSON.parse(pending) as DockerEvent;
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    } finally {
      res.body.destroy();
    }
  }
}
