/**
 * Deterministic randomness for the sandbox: the same seed text always yields the same data, so a
 * login's accounts and transactions are reproducible in tests. Not for anything secret.
 */

/** 32-bit FNV-1a hash of a string (a fast, well-spread seed; not cryptographic). */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A small seeded generator (xorshift32 with a multiplicative output step). */
export class Prng {
  private state: number;

  constructor(seedText: string) {
    // xorshift must not start at 0.
    this.state = hash32(seedText) || 0x9e3779b9;
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return Math.imul(this.state, 0x9e3779bb) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextU32() / 0x1_0000_0000;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)] as T;
  }

  /** `n` upper-case hex characters. */
  hex(n: number): string {
    let out = "";
    while (out.length < n) out += this.nextU32().toString(16).padStart(8, "0");
    return out.slice(0, n).toUpperCase();
  }
}
