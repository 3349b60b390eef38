type Loop = (operation: (iteration: number) => unknown, start: number, count: number) => Promise<void>;

// Each measurement gets a loop compiled for it alone, as benchmark.js does: one loop shared by
// every row would see many different operations, go megamorphic, and favour whichever row ran
// first.
function compileLoop(): Loop {
  return new Function(
    "operation",
    "start",
    "count",
    "return (async () => { for (let i = start; i < start + count; i++) await operation(i); })();",
  ) as Loop;
}

/** Runs `operation` repeatedly for about `seconds` and returns operations per second (best of `rounds`). */
export async function opsPerSecond(
  operation: (iteration: number) => Promise<unknown> | unknown,
  options: { seconds?: number; rounds?: number; batch?: number } = {},
): Promise<number> {
  const seconds = options.seconds ?? 0.5;
  const rounds = options.rounds ?? 5;
  const batch = options.batch ?? 1000;
  const loop = compileLoop();
  let iteration = 0;
  let best = 0;
  for (let round = 0; round < rounds; round++) {
    let count = 0;
    const started = performance.now();
    let elapsed = 0;
    while (elapsed < seconds * 1000) {
      await loop(operation, iteration, batch);
      iteration += batch;
      count += batch;
      elapsed = performance.now() - started;
    }
    best = Math.max(best, count / (elapsed / 1000));
  }
  return best;
}

export function formatRate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M/s` : `${(perSecond / 1e3).toFixed(0)} k/s`;
}

export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
