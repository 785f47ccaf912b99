/**
 * Exact decimal strings for money and quantities (docs/contract.md "Conventions": money is a decimal string, never a
 * float). Provider JSON numbers arrive as IEEE-754 doubles; we keep the shortest decimal that
 * round-trips to the same double (what the provider most likely wrote) and do any arithmetic on
 * scaled BigInts, so `0.1 + 0.2` style errors cannot appear.
 */

interface Scaled {
  units: bigint;
  scale: number;
}

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/**
 * Shortest round-trip decimal string of a finite number, never in exponent notation
 * (`1e-7` → `"0.0000001"`, `-0` → `"0"`). Throws RangeError for NaN and ±Infinity.
 */
export function decimalFromNumber(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError("not a finite number");
  if (n === 0) return "0";
  // Number#toString is the shortest round-trip form (ECMA-262 Number::toString); it only
  // switches to exponent notation outside 1e-7..1e21, which we expand by hand.
  const text = String(n);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const [, sign = "", int = "", frac = "", exp = "0"] = m;
  const digits = int + frac;
  const point = int.length + Number(exp);
  let out: string;
  if (point <= 0) out = `0.${"0".repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + "0".repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return sign + stripZeros(out);
}

function stripZeros(text: string): string {
  if (!text.includes(".")) return text;
  return text.replace(/0+$/, "").replace(/\.$/, "");
}

function parse(value: string): Scaled {
  const m = DECIMAL.exec(value);
  if (!m) throw new RangeError("not a decimal string");
  const [, sign, int = "0", frac = ""] = m;
  const units = BigInt(int + frac);
  return { units: sign ? -units : units, scale: frac.length };
}

function rescale(v: Scaled, scale: number): bigint {
  return v.units * 10n ** BigInt(scale - v.scale);
}

function format({ units, scale }: Scaled): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  const out = stripZeros(text);
  return negative && out !== "0" ? `-${out}` : out;
}

/** How many digits a decimal string (`isDecimal`) has after its point. */
export function decimalScale(value: string): number {
  const point = value.indexOf(".");
  return point < 0 ? 0 : value.length - point - 1;
}

/**
 * A decimal string (`isDecimal`) as an integer count of 10^-scale (`"1.5"`, 2 → 150n); `scale`
 * at least the value's own, so nothing is rounded. With `decimalFromUnits`, long sums stay exact
 * additions. String work only: net worth converts every balance of a two-year series.
 */
export function decimalToUnits(value: string, scale: number): bigint {
  const own = decimalScale(value);
  if (own > scale) throw new RangeError("scale too small");
  const digits = own === 0 ? value : value.slice(0, -own - 1) + value.slice(-own);
  return BigInt(digits + "0".repeat(scale - own));
}

/** The decimal string of an integer count of 10^-scale. */
export function decimalFromUnits(units: bigint, scale: number): string {
  return format({ units, scale });
}

/** Whether a string is a plain decimal (`-12.50`, `3`); no exponent, no `+`, no spaces. */
export function isDecimal(value: string): boolean {
  return DECIMAL.test(value);
}

/** Exact `a + b` of decimal strings. */
export function decimalAdd(a: string, b: string): string {
  const x = parse(a);
  const y = parse(b);
  const scale = Math.max(x.scale, y.scale);
  return format({ units: rescale(x, scale) + rescale(y, scale), scale });
}

/** Exact `a - b` of decimal strings. */
export function decimalSub(a: string, b: string): string {
  return decimalAdd(a, decimalNeg(b));
}

/** `-a`. */
export function decimalNeg(a: string): string {
  const x = parse(a);
  return format({ units: -x.units, scale: x.scale });
}

/** Whether a decimal string is zero. */
export function decimalIsZero(a: string): boolean {
  return parse(a).units === 0n;
}

/**
 * `a / b` rounded half-to-even to at most `maxScale` fraction digits (null when b is zero).
 * Only for derived figures (a price from value / quantity); stored amounts are never divided.
 */
export function decimalDiv(a: string, b: string, maxScale = 8): string | null {
  const x = parse(a);
  const y = parse(b);
  if (y.units === 0n) return null;
  // a/b = (xu / 10^xs) / (yu / 10^ys); scale the numerator so the quotient has maxScale digits.
  let num = x.units * 10n ** BigInt(maxScale + y.scale);
  let den = y.units * 10n ** BigInt(x.scale);
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const negative = num < 0n;
  const abs = negative ? -num : num;
  let q = abs / den;
  const twice = (abs % den) * 2n;
  if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  return format({ units: negative ? -q : q, scale: maxScale });
}

/** Exact `a × b` of decimal strings. */
export function decimalMul(a: string, b: string): string {
  const x = parse(a);
  const y = parse(b);
  return format({ units: x.units * y.units, scale: x.scale + y.scale });
}

/** Compares two decimal strings: -1, 0 or 1. */
export function decimalCompare(a: string, b: string): -1 | 0 | 1 {
  const x = parse(a);
  const y = parse(b);
  const scale = Math.max(x.scale, y.scale);
  const d = rescale(x, scale) - rescale(y, scale);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** |a|. */
export const decimalAbs = (a: string) => (a.startsWith("-") ? a.slice(1) : a);
