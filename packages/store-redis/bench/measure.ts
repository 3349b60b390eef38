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

export function formatRate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M/s` : `${(perSecond / 1e3).toFixed(1)} k/s`;
}

export function formatMs(ms: number): string {
  return ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(0)} µs`;
}

export function formatTimes(ratio: number): string {
  return `${ratio.toFixed(2)}×`;
}
