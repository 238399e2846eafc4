/**
 * Key choice of the YCSB core workloads: the zipfian generator of Gray et al., "Quickly
 * Generating Billion-Record Synthetic Databases" (SIGMOD 1994), as YCSB's ZipfianGenerator
 * implements it (constant 0.99), with YCSB's "scrambled" variant so the hot items are spread
 * over the key space instead of being keys 0, 1, 2 ...
 */

/** A seeded PRNG (mulberry32): runs are repeatable and every process can use its own seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** YCSB's zipfian constant. */
export const ZIPFIAN_CONSTANT = 0.99;

/** zeta(n, theta) = sum over i in 1..n of 1 / i^theta. */
export function zeta(n: number, theta: number): number {
  let sum = 0;
  for (let i = 1; i <= n; i++) sum += 1 / Math.pow(i, theta);
  return sum;
}

/** Draws item ranks 0..items-1; rank 0 is the most popular, P(rank k) ∝ 1/(k+1)^theta. */
export class ZipfianGenerator {
  readonly #items: number;
  readonly #theta: number;
  readonly #zetan: number;
  readonly #alpha: number;
  readonly #eta: number;
  readonly #random: () => number;

  constructor(items: number, options: { theta?: number; random?: () => number } = {}) {
    if (!Number.isInteger(items) || items < 2) throw new RangeError(`zipfian needs at least 2 items, got ${items}`);
    this.#items = items;
    this.#theta = options.theta ?? ZIPFIAN_CONSTANT;
    this.#random = options.random ?? Math.random;
    this.#zetan = zeta(items, this.#theta);
    const zeta2 = zeta(2, this.#theta);
    this.#alpha = 1 / (1 - this.#theta);
    this.#eta = (1 - Math.pow(2 / items, 1 - this.#theta)) / (1 - zeta2 / this.#zetan);
  }

  /** The probability of rank 0 (for tests and sanity checks). */
  get topProbability(): number {
    return 1 / this.#zetan;
  }

  next(): number {
    const u = this.#random();
    const uz = u * this.#zetan;
    if (uz < 1) return 0;
    if (uz < 1 + Math.pow(0.5, this.#theta)) return 1;
    const rank = Math.floor(this.#items * Math.pow(this.#eta * u - this.#eta + 1, this.#alpha));
    return Math.min(rank, this.#items - 1);
  }
}

/**
 * Zipfian ranks mapped through a fixed random permutation of the items (YCSB hashes the rank
 * with FNV for the same purpose): popularity keeps its zipfian shape, hot keys are scattered.
 */
export class ScrambledZipfianGenerator {
  readonly #zipf: ZipfianGenerator;
  readonly #permutation: Uint32Array;

  constructor(items: number, options: { theta?: number; random?: () => number; seed?: number } = {}) {
    const random = options.random ?? seededRandom(options.seed ?? 1);
    this.#zipf = new ZipfianGenerator(items, { ...(options.theta !== undefined && { theta: options.theta }), random });
    // The permutation depends only on the item count, so every process agrees on the hot keys.
    const shuffle = seededRandom(items * 2654435761);
    this.#permutation = new Uint32Array(items);
    for (let i = 0; i < items; i++) this.#permutation[i] = i;
    for (let i = items - 1; i > 0; i--) {
      const j = Math.floor(shuffle() * (i + 1));
      const t = this.#permutation[i] as number;
      this.#permutation[i] = this.#permutation[j] as number;
      this.#permutation[j] = t;
    }
  }

  /** An item index 0..items-1. */
  next(): number {
    return this.#permutation[this.#zipf.next()] as number;
  }
}
