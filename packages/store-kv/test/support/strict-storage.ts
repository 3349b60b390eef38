import type { DurableObjectListOptionsLike, DurableObjectStorageLike } from "../../src/index.js";

/** Cloudflare's storage API takes at most this many keys per `put` or `delete`; Miniflare does not check. */
export const CLOUDFLARE_KEYS_PER_CALL = 128;

/**
 * A Durable Object's storage that enforces Cloudflare's keys-per-call limit, as production does,
 * and records the largest call it saw.
 */
export function strictStorage(storage: DurableObjectStorageLike): DurableObjectStorageLike & { largestCall: number } {
  const check = (count: number) => {
    strict.largestCall = Math.max(strict.largestCall, count);
    if (count > CLOUDFLARE_KEYS_PER_CALL) throw new RangeError(`${count} keys in one storage call`);
  };
  const strict = {
    largestCall: 0,
    get: <T>(key: string) => storage.get<T>(key),
    list: <T>(options?: DurableObjectListOptionsLike) => storage.list<T>(options),
    async put<T>(entries: Record<string, T>): Promise<void> {
      check(Object.keys(entries).length);
      await storage.put(entries);
    },
    async delete(keys: string[]): Promise<number> {
      check(keys.length);
      return storage.delete(keys);
    },
    deleteAll: () => storage.deleteAll(),
    getAlarm: () => storage.getAlarm(),
    setAlarm: (time: number) => storage.setAlarm(time),
    deleteAlarm: () => storage.deleteAlarm(),
  };
  return strict;
}
