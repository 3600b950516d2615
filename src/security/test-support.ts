// Unit-test helpers: an API app over a temporary store, with a controller that records calls
// instead of touching Docker (the auth and audit logic under test sits in front of it).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApi, servedOver, type Transport } from '../api/index.js';
import type { ApiDeps } from '../api/index.js';
import type { Spec } from '../spec/index.js';
import { Store } from '../store/index.js';
import { openSecurity, type Security } from './security.js';

export interface TestApi {
  store: Store;
  security: Security;
  home: string;
  calls: string[];
  request: (
    transport: Transport,
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown },
  ) => Promise<{ status: number; body: unknown; text: string }>;
}

export function testApi(): TestApi {
  const home = mkdtempSync(join(tmpdir(), 'hotswap-sec-'));
  const store = Store.open(join(home, 'hotswap.db'));
  const security = openSecurity(store, home);
  const calls: string[] = [];
  const controller = {
    apply: (spec: Spec, only: string | undefined) => {
      calls.push(`apply ${only ?? spec.services.map((s) => s.name).join(',')}`);
      return Promise.resolve(
        spec.services
          .filter((s) => only === undefined || s.name === only)
          .map((s) => ({ service: s.name, outcome: 'succeeded', revision: 1, rolloutId: null })),
      );
    },
    rollback: (name: string) => {
      calls.push(`rollback ${name}`);
      return Promise.resolve({ service: name, outcome: 'succeeded', revision: 1, rolloutId: null });
    },
    control: (name: string, action: string) => {
      calls.push(`${action} ${name}`);
      return { rolloutId: 1, action };
    },
    down: (service: string | undefined) => {
      calls.push(`down ${service ?? '*'}`);
      return Promise.resolve([service ?? 'web']);
    },
    status: () => Promise.resolve([]),
    storeWarning: () => null,
  };
  const app = createApi({
    controller: controller as unknown as ApiDeps['controller'],
    proxy: {} as ApiDeps['proxy'],
    store,
    security,
    version: 'test',
    shutdown: () => calls.push('shutdown'),
  });
  const request: TestApi['request'] = async (transport, method, path, opts = {}) => {
    const fetch = servedOver(app, transport);
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(
      new Request(`http://hotswap${path}`, {
        method,
        headers,
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      }),
    );
    const text = await res.text();
    return { status: res.status, body: lastJsonLine(text), text };
  };
  return { store, security, home, calls, request };
}

/** The last line of a JSON or NDJSON body, parsed; null when it is not JSON. */
function lastJsonLine(text: string): unknown {
  try {
    return JSON.parse(text.trim().split('\n').at(-1) ?? 'null');
  } catch {
    return null;
  }
}
