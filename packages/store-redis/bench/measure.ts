import { median } from "@threadline/bench-kit";

/** Throughput and latency of one workload at one concurrency. */
export interface Measurement {
  /** Operations per second. */
  rate: number;
  /** Median latency, ms. */
  p50: number;
  /** 99th percentile latency, ms. */
  p99: number;
}

/**
 * Runs `operation` from `concurrency` loops for about `seconds` (after a short warm-up) and
 * returns the rate and latency percentiles. Each loop awaits its call before the next, as a
 * server handling `concurrency` requests at once would.
 */
export async function measure(
  operation: (iteration: number) => Promise<unknown>,
  options: { concurrency: number; seconds: number; warmupSeconds?: number },
): Promise<Measurement> {
  await drive(operation, options.concurrency, options.warmupSeconds ?? 0.2, undefined);
  const latencies: number[] = [];
  const { count, elapsedMs } = await drive(operation, options.concurrency, options.seconds, latencies);
  latencies.sort((a, b) => a - b);
  const percentile = (share: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * share))] ?? 0;
  return { rate: count / (elapsedMs / 1000), p50: percentile(0.5), p99: percentile(0.99) };
}

async function drive(
  operation: (iteration: number) => Promise<unknown>,
  concurrency: number,
  seconds: number,
  latencies: number[] | undefined,
): Promise<{ count: number; elapsedMs: number }> {
  let iteration = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline) {
      const begin = performance.now();
      await operation(iteration++);
      latencies?.push(performance.now() - begin);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { count: iteration, elapsedMs: performance.now() - started };
}

/**
 * Runs every workload once per round, in the same order each round, and returns each
 * workload's results by round: interleaving spreads load from elsewhere on the machine over
 * all workloads instead of landing on one.
 */
export async function interleaved<Name extends string, T>(
  rounds: number,
  workloads: Record<Name, () => Promise<T>>,
): Promise<Record<Name, T[]>> {
  const names = Object.keys(workloads) as Name[];
  const results = Object.fromEntries(names.map((name) => [name, [] as T[]])) as Record<Name, T[]>;
  for (let round = 0; round < rounds; round++) {
    for (const name of names) results[name].push(await workloads[name]());
  }
  return results;
}

/** `median (min–max)` of per-round values, each formatted by `format`. Never a best round. */
export function spread(values: readonly number[], format: (value: number) => string): string {
  if (values.length === 1) return format(values[0] as number);
  return `${format(median(values))} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
}

/** Per-round ratios `numerator[i] / denominator[i]`: a ratio is only meaningful within one round. */
export function ratios(numerator: readonly number[], denominator: readonly number[]): number[] {
  return numerator.map((value, index) => value / (denominator[index] as number));
}

export function formatRate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M/s` : `${(perSecond / 1e3).toFixed(1)} k/s`;
}

export function formatMs(ms: number): string {
  return ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(0)} µs`;
}

export function formatTimes(ratio: number): string {
  return `${ratio.toFixed(2)}×`;
}
