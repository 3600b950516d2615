// POST /probe: the proxy checks an instance address for the controller (issue 17). On a Swarm
// the instances' addresses are on an overlay network the daemon's host cannot reach, but every
// proxy task is attached to it; the probe is the controller's own http/tcp probe, run here.
import { httpProbe, tcpProbe, type ProbeResult } from '../../health/probe.js';
import { rejected, requireObject } from '../core/validate.js';

const ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|[a-zA-Z0-9.-]+):\d{1,5}$/;

export function probeInput(body: unknown): {
  type: 'http' | 'tcp';
  address: string;
  path: string;
  timeoutMs: number;
} {
  const b = requireObject(body, 'body');
  if (b.type !== 'http' && b.type !== 'tcp') throw rejected('type', 'must be "http" or "tcp"');
  if (typeof b.address !== 'string' || !ADDRESS.test(b.address))
    throw rejected('address', 'must be host:port');
  const path = b.path ?? '/';
  if (typeof path !== 'string' || !path.startsWith('/'))
    throw rejected('path', 'must start with /');
  const timeoutMs = b.timeoutMs ?? 2000;
  if (
    typeof timeoutMs !== 'number' ||
    !Number.isInteger(timeoutMs) ||
    timeoutMs < 1 ||
    timeoutMs > 60_000
  )
    throw rejected('timeoutMs', 'must be an integer of 1..60000');
  return { type: b.type, address: b.address, path, timeoutMs };
}

export function runProbe(body: unknown): Promise<ProbeResult> {
  const p = probeInput(body);
  return p.type === 'http'
    ? httpProbe(p.address, p.path, p.timeoutMs)
    : tcpProbe(p.address, p.timeoutMs);
}
