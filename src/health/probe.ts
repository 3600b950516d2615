import http from 'node:http';
import net from 'node:net';
import type { Runtime } from '../runtime/types.js';
import type { HealthSpec } from '../spec/types.js';
import { dockerProbe, execProbe } from './container-probes.js';

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

type ProbeObserver = (type: HealthSpec['check']['type'], ok: boolean) => void;
let observer: ProbeObserver | null = null;

/** Called with the result of every probe() (the daemon's metrics); null stops it. */
export function observeProbes(fn: ProbeObserver | null): void {
  observer = fn;
}

/** What a probe needs to reach an instance: its published address, or the engine for exec/docker. */
export interface ProbeTarget {
  instanceId: string;
  address: string;
  runtime: Pick<Runtime, 'inspectInstance' | 'exec' | 'reach'>;
}

/** One check of one instance. Never throws. */
export async function probe(
  check: HealthSpec['check'],
  target: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeResult> {
  const result = await probeOnce(check, target, timeoutMs);
  observer?.(check.type, result.ok);
  return result;
}

function probeOnce(
  check: HealthSpec['check'],
  target: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeResult> {
  const reach = target.runtime.reach?.bind(target.runtime);
  switch (check.type) {
    case 'http':
      if (reach) return reachProbe(reach, { type: 'http', path: check.path }, target, timeoutMs);
      return httpProbe(target.address, check.path, timeoutMs);
    case 'exec':
      return execProbe(target, check.command, timeoutMs);
    case 'docker':
      return dockerProbe(target);
    default:
      if (reach) return reachProbe(reach, { type: 'tcp' }, target, timeoutMs);
      return tcpProbe(target.address, timeoutMs);
  }
}

/** Through the backend's own path to the address (never throws, like the direct probes). */
async function reachProbe(
  reach: NonNullable<Runtime['reach']>,
  check: { type: 'http'; path: string } | { type: 'tcp' },
  target: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeResult> {
  try {
    return await reach(check, target.address, timeoutMs);
  } catch (err) {
    return { ok: false, detail: `probe of ${target.address}: ${(err as Error).message}` };
  }
}

function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}

/** 2xx and 3xx pass. A fresh connection each time, so a probe never rides a stale keep-alive socket. */
export function httpProbe(address: string, path: string, timeoutMs: number): Promise<ProbeResult> {
  const { host, port } = splitAddress(address);
  return new Promise((resolve) => {
    const req = http.get(
      {
        host,
        port,
        path,
        agent: false,
        timeout: timeoutMs,
        headers: { 'user-agent': 'hotswap-probe' },
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        resolve({ ok: status >= 200 && status < 400, detail: `GET ${path} → ${status}` });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ ok: false, detail: `GET ${path}: ${err.message}` }));
  });
}

/**
 * Docker's userland proxy accepts a connection on the published port even when nothing listens
 * inside the container, then closes it. So a TCP probe passes only if the connection is still
 * open a short while after connect.
 */
const TCP_SETTLE_MS = 150;

export function tcpProbe(address: string, timeoutMs: number): Promise<ProbeResult> {
  const { host, port } = splitAddress(address);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let settled = false;
    const finish = (r: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => finish({ ok: false, detail: `tcp ${address}: timed out after ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.on('connect', () => {
      setTimeout(
        () => finish({ ok: true, detail: `tcp ${address}: open` }),
        Math.min(TCP_SETTLE_MS, timeoutMs),
      );
    });
    socket.on('close', () => finish({ ok: false, detail: `tcp ${address}: closed by peer` }));
    socket.on('error', (err) => finish({ ok: false, detail: `tcp ${address}: ${err.message}` }));
  });
}
