/** Prints rows as an aligned Markdown table, ready to paste into a README. */
export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  console.log(line(headers));
  console.log(`|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`);
  for (const row of rows) console.log(line(row));
}

/** The median (the mean of the middle two for an even count); NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** A formatter for {@link spread}: `digits` decimals and an optional unit, e.g. `fixed(1, " µs")`. */
export function fixed(digits: number, unit = ""): (value: number) => string {
  return (value) => `${value.toFixed(digits)}${unit}`;
}

/**
 * `median (min–max)` of per-round values, each formatted by `format`: how every threadline
 * benchmark reports a result. Never a best round.
 */
export function spread(values: readonly number[], format: (value: number) => string = fixed(2)): string {
  if (values.length === 1) return format(values[0] as number);
  return `${format(median(values))} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
}

/**
 * Each round's value combined with the same round's reference (a ratio by default): rows are
 * compared within a round, where the machine's load hit both alike, never across rounds.
 */
export function perRound(
  values: readonly number[],
  reference: readonly number[],
  combine: (value: number, base: number) => number = (value, base) => value / base,
): number[] {
  return values.map((value, round) => combine(value, reference[round] ?? Number.NaN));
}

/**
 * Runs every workload once per round, in the same order each round, and returns each workload's
 * results by round: interleaving spreads load from elsewhere on the machine over all workloads
 * instead of landing on one.
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
export { type StalledSink, stalledRecordSink } from "./stalled-sink.js";
