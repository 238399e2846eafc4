import * as hdr from 'hdr-histogram-js';

/** Median with the range it came from, e.g. throughput over several runs. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  /** How many samples the summary is made of. */
  count: number;
}

/** The median of `values` (the mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Median, min and max of `values`. */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/**
 * Latency recorder on an HDR histogram (3 significant digits, microsecond units, so a
 * 106 µs round trip and a 2 s lock wait are both kept to 0.1 %). Mergeable across runs and,
 * encoded, across processes.
 */
export class LatencyRecorder {
  readonly histogram: hdr.Histogram;

  constructor(histogram?: hdr.Histogram) {
    this.histogram = histogram ?? hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
  }

  /** Records one latency given in milliseconds (sub-µs values count as 1 µs). */
  recordMs(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  /** Adds every sample of `other` to this recorder. */
  add(other: LatencyRecorder): void {
    this.histogram.add(other.histogram);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** Percentiles in ms; zeros when nothing was recorded. */
  summary(): LatencySummary {
    const h = this.histogram;
    if (h.totalCount === 0) return { p50: 0, p95: 0, p99: 0, max: 0, mean: 0, count: 0 };
    const ms = (us: number): number => us / 1000;
    return {
      p50: ms(h.getValueAtPercentile(50)),
      p95: ms(h.getValueAtPercentile(95)),
      p99: ms(h.getValueAtPercentile(99)),
      max: ms(h.maxValue),
      mean: ms(h.mean),
      count: h.totalCount,
    };
  }

  /** A compact text form for sending to another process. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.histogram);
  }

  /** The recorder `encode()` described. */
  static decode(text: string): LatencyRecorder {
    // A decoded histogram cannot grow; copy it into one that can, so later merges never overflow.
    const recorder = new LatencyRecorder();
    recorder.histogram.add(hdr.decodeFromCompressedBase64(text));
    return recorder;
  }
}
