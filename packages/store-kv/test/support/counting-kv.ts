import type { KVListResultLike, KVNamespaceLike } from "../../src/index.js";

/** One `put` as the binding saw it. */
export interface RecordedPut {
  key: string;
  value: string;
  expirationTtl: number | undefined;
  metadata: unknown;
}

/** A real KV binding wrapped to count what the store asks of it. */
export interface CountingKV extends KVNamespaceLike {
  reads: number;
  writes: number;
  lists: number;
  deletes: number;
  readonly puts: RecordedPut[];
  reset(): void;
}

/**
 * Counts reads, writes and lists on `binding` and records every put, passing each call
 * through unchanged. `failPut` makes chosen puts reject, as KV does at its write limit.
 */
export function countingKV(binding: KVNamespaceLike, failPut?: (put: RecordedPut) => boolean): CountingKV {
  const counting: CountingKV = {
    reads: 0,
    writes: 0,
    lists: 0,
    deletes: 0,
    puts: [],
    reset() {
      counting.reads = 0;
      counting.writes = 0;
      counting.lists = 0;
      counting.deletes = 0;
      counting.puts.length = 0;
    },
    get(key: string, type: "text"): Promise<string | null> {
      counting.reads++;
      return binding.get(key, type);
    },
    async put(key: string, value: string, options?: { expirationTtl?: number; metadata?: unknown }): Promise<void> {
      const put = { key, value, expirationTtl: options?.expirationTtl, metadata: options?.metadata };
      counting.writes++;
      counting.puts.push(put);
      if (failPut?.(put)) throw new Error("KV PUT failed: 429 Too Many Requests");
      await binding.put(key, value, options);
    },
    list(options?: { prefix?: string | null; limit?: number; cursor?: string | null }): Promise<KVListResultLike> {
      counting.lists++;
      return binding.list(options);
    },
    delete(key: string): Promise<void> {
      counting.deletes++;
      return binding.delete(key);
    },
  };
  return counting;
}
