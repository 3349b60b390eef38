import { median, perRound, spread } from "@threadline/bench-kit";

type Loop = (operation: (iteration: number) => unknown, start: number, count: number) => Promise<void>;

// Each row gets a loop compiled for it alone, as benchmark.js does: one loop shared by every row
// would see many different operations, go megamorphic, and favour whichever row ran first.
function compileLoop(): Loop {
  return new Function(
    "operation",
    "start",
    "count",
    "return (async () => { for (let i = start; i < start + count; i++) await operation(i); })();",
  ) as Loop;
}

/** One benchmark row: an operation called with a growing iteration number. */
export interface Row {
  name: string;
  operation: (iteration: number) => Promise<unknown> | unknown;
}

/** Rates (operations per second) of every round of one row. */
export interface RowRates {
  name: string;
  rates: number[];
}

/**
 * Measures every row for about `seconds` per round, rounds interleaved (row A, row B, …, then A
 * again), so a noisy moment of the machine hits every row alike. Reports every round: callers
 * show the median and the spread, never the best round.
 */
export async function measureInterleaved(
  rows: readonly Row[],
  options: { seconds?: number; rounds?: number; batch?: number } = {},
): Promise<RowRates[]> {
  const seconds = options.seconds ?? Number(process.env.BENCH_SECONDS ?? 0.5);
  const rounds = options.rounds ?? Number(process.env.BENCH_ROUNDS ?? 7);
  const batch = options.batch ?? 1000;
  const states = rows.map((row) => ({ row, loop: compileLoop(), iteration: 0, rates: [] as number[] }));
  for (let round = 0; round < rounds; round++) {
    for (const state of states) {
      let count = 0;
      const started = performance.now();
      let elapsed = 0;
      while (elapsed < seconds * 1000) {
        await state.loop(state.row.operation, state.iteration, batch);
        state.iteration += batch;
        count += batch;
        elapsed = performance.now() - started;
      }
      state.rates.push(count / (elapsed / 1000));
    }
  }
  return states.map((state) => ({ name: state.row.name, rates: state.rates }));
}

/** `median (min–max)` of a row's rates. */
export function formatRates(rates: readonly number[]): string {
  return spread(rates, formatRate);
}

/** The median over rounds of the row's rate divided by the baseline's rate of the same round. */
export function medianRatio(row: readonly number[], baseline: readonly number[]): string {
  return `${median(perRound(row, baseline)).toFixed(2)}×`;
}

export function formatRate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M/s` : `${(perSecond / 1e3).toFixed(0)} k/s`;
}

export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
