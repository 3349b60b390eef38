import type { DurableObjectListOptionsLike, DurableObjectStorageLike } from "../../src/index.js";

/** Storage calls and keys one session object used (see {@link keyCountingStorage}). */
export interface KeyCounts {
  /** `get`, `list` and `getAlarm` calls. */
  reads: number;
  /** Keys (values) those reads returned. */
  keysRead: number;
  /** `put`, `delete`, `deleteAll`, `setAlarm` and `deleteAlarm` calls. */
  writes: number;
  keysWritten: number;
  keysDeleted: number;
}

export function zeroCounts(): KeyCounts {
  return { reads: 0, keysRead: 0, writes: 0, keysWritten: 0, keysDeleted: 0 };
}

/**
 * Wraps a Durable Object's storage to count calls, as bench/counting-storage.ts does, and also
 * the keys each call read, wrote or deleted: what a change costs beyond its number of calls.
 */
export function keyCountingStorage(storage: DurableObjectStorageLike, counts: KeyCounts): DurableObjectStorageLike {
  return {
    async get<T>(key: string): Promise<T | undefined> {
      counts.reads++;
      const value = await storage.get<T>(key);
      if (value !== undefined) counts.keysRead++;
      return value;
    },
    async list<T>(options?: DurableObjectListOptionsLike): Promise<Map<string, T>> {
      counts.reads++;
      const values = await storage.list<T>(options);
      counts.keysRead += values.size;
      return values;
    },
    put<T>(entries: Record<string, T>): Promise<void> {
      counts.writes++;
      counts.keysWritten += Object.keys(entries).length;
      return storage.put(entries);
    },
    delete(keys: string[]): Promise<number> {
      counts.writes++;
      counts.keysDeleted += keys.length;
      return storage.delete(keys);
    },
    deleteAll(): Promise<void> {
      counts.writes++;
      return storage.deleteAll();
    },
    getAlarm(): Promise<number | null> {
      counts.reads++;
      return storage.getAlarm();
    },
    setAlarm(scheduledTime: number): Promise<void> {
      counts.writes++;
      return storage.setAlarm(scheduledTime);
    },
    deleteAlarm(): Promise<void> {
      counts.writes++;
      return storage.deleteAlarm();
    },
  };
}
