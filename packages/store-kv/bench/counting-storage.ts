import type { DurableObjectListOptionsLike, DurableObjectStorageLike } from "../src/index.js";

/** Storage operations one session object performed. */
export interface StorageCounts {
  reads: number;
  writes: number;
}

/** The alarm a counting storage holds instead of handing it to the runtime (ms, simulated clock). */
export interface SimulatedAlarm {
  at: number | null;
}

/**
 * Wraps a Durable Object's storage to count calls: `get`, `list` and `getAlarm` are reads;
 * `put`, `delete`, `deleteAll`, `setAlarm` and `deleteAlarm` are writes (one per call, however many keys).
 * The alarm is kept in `alarm` rather than set, because the benchmark runs on simulated
 * time and fires alarms itself.
 */
export function countingStorage(
  storage: DurableObjectStorageLike,
  counts: StorageCounts,
  alarm: SimulatedAlarm,
): DurableObjectStorageLike {
  return {
    get<T>(key: string): Promise<T | undefined> {
      counts.reads++;
      return storage.get<T>(key);
    },
    list<T>(options?: DurableObjectListOptionsLike): Promise<Map<string, T>> {
      counts.reads++;
      return storage.list<T>(options);
    },
    put<T>(entries: Record<string, T>): Promise<void> {
      counts.writes++;
      return storage.put(entries);
    },
    delete(keys: string[]): Promise<number> {
      counts.writes++;
      return storage.delete(keys);
    },
    deleteAll(): Promise<void> {
      counts.writes++;
      alarm.at = null;
      return storage.deleteAll();
    },
    async getAlarm(): Promise<number | null> {
      counts.reads++;
      return alarm.at;
    },
    async setAlarm(scheduledTime: number): Promise<void> {
      counts.writes++;
      alarm.at = scheduledTime;
    },
    async deleteAlarm(): Promise<void> {
      counts.writes++;
      alarm.at = null;
    },
  };
}
