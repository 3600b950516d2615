// Byte sizes in the spec: a number of bytes, or "512KiB", "16MiB", "1GiB" (and kB, MB, GB).
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** Bytes, or what is wrong with the text. */
export function parseSize(value: number | string): number | string {
  if (typeof value === 'number') return value;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined)
    return `expected a size like 1048576, "512KiB" or "16MiB", found "${value}"`;
  const bytes = Math.floor(Number(m[1]) * unit);
  return bytes >= 1 ? bytes : `expected a positive size, found "${value}"`;
}
