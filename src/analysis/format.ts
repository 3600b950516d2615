// Number formatting for verdict reasons. Reasons are read by people during an incident, so they
// show rates as percents and p-values with two significant digits (scientific when tiny).

export function pct(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

/** A threshold like 0.02 → "2%", 0.005 → "0.5%" (no padding zeros). */
export function pctLimit(rate: number): string {
  return `${Number((rate * 100).toPrecision(6))}%`;
}

export function pValue(p: number): string {
  if (p === 0) return '0';
  return p < 1e-4 ? p.toExponential(1) : p.toPrecision(2);
}

export function fixed(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

export function ms(n: number): string {
  return `${fixed(n, 1)}ms`;
}
