import { describe, expect, it } from 'vitest';
import { ScrambledZipfianGenerator, ZipfianGenerator, seededRandom, zeta } from '../src/harness/zipfian.js';

const SAMPLES = 200_000;

function histogram(next: () => number, items: number): number[] {
  const counts = new Array<number>(items).fill(0);
  for (let i = 0; i < SAMPLES; i++) counts[next()]!++;
  return counts;
}

describe('zipfian key choice', () => {
  it('zeta sums 1/i^theta', () => {
    expect(zeta(1, 0.99)).toBe(1);
    expect(zeta(3, 1)).toBeCloseTo(1 + 1 / 2 + 1 / 3, 12);
  });

  it('ranks stay in range and follow P(k) ∝ 1/(k+1)^0.99 for the hot ranks', () => {
    const items = 100;
    const zipf = new ZipfianGenerator(items, { random: seededRandom(3) });
    const counts = histogram(() => zipf.next(), items);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(SAMPLES);
    const z = zeta(items, 0.99);
    for (const k of [0, 1]) {
      const expected = SAMPLES / Math.pow(k + 1, 0.99) / z;
      expect(Math.abs(counts[k]! - expected) / expected).toBeLessThan(0.05);
    }
    // Rank 0 is about twice rank 1, and popularity falls off down the ranks.
    expect(counts[0]! / counts[1]!).toBeGreaterThan(1.8);
    expect(counts[0]! / counts[1]!).toBeLessThan(2.2);
    const head = counts.slice(0, 10).reduce((a, b) => a + b, 0);
    const tail = counts.slice(90).reduce((a, b) => a + b, 0);
    expect(head).toBeGreaterThan(tail * 5);
    expect(zipf.topProbability).toBeCloseTo(1 / z, 12);
  });

  it('the scrambled variant keeps the shape but moves the hot key away from index 0', () => {
    const items = 1000;
    const gen = new ScrambledZipfianGenerator(items, { seed: 9 });
    const c = histogram(() => gen.next(), items);
    const sorted = [...c].sort((a, b) => b - a);
    const z = zeta(items, 0.99);
    expect(Math.abs(sorted[0]! - SAMPLES / z) / (SAMPLES / z)).toBeLessThan(0.05);
    // Every sample landed on an index in range (an index outside it would not be counted here).
    expect(c).toHaveLength(items);
    expect(c.reduce((sum, n) => sum + n, 0)).toBe(SAMPLES);
    const hottest = c.indexOf(sorted[0]!);
    expect(hottest).not.toBe(0);
    // Every process agrees on which key is hot (the permutation depends on the item count only).
    const other = new ScrambledZipfianGenerator(items, { seed: 123 });
    const c2 = histogram(() => other.next(), items);
    expect(c2.indexOf(Math.max(...c2))).toBe(hottest);
  });

  it('rejects fewer than two items', () => {
    expect(() => new ZipfianGenerator(1)).toThrow(RangeError);
  });
});
