// IPv4 subnets for the private listeners (issue 16): a listener on a network's gateway serves only
// connections from that network, and a backend outside 127.0.0.1 must lie in one of the service's
// own networks.

/** An IPv4 CIDR such as "172.18.0.0/16", or null when it is not one. */
export function parseCidr(text: string): { base: number; bits: number } | null {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(text);
  if (!m) return null;
  const base = ipv4(m[1]!);
  const bits = Number(m[2]);
  return base === null || bits > 32 ? null : { base, bits };
}

/** An IPv4 address (also IPv4-mapped IPv6, as Node reports some peers) as a number. */
export function ipv4(text: string): number | null {
  const plain = text.startsWith('::ffff:') ? text.slice(7) : text;
  const parts = plain.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

export function inSubnet(address: string | undefined, cidr: string): boolean {
  const net = parseCidr(cidr);
  const ip = address === undefined ? null : ipv4(address);
  if (net === null || ip === null) return false;
  if (net.bits === 0) return true;
  const size = 2 ** (32 - net.bits);
  return Math.floor(ip / size) === Math.floor(net.base / size);
}
