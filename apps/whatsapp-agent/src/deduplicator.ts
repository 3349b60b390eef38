/**
 * Remembers which WhatsApp message ids were already handled. WhatsApp redelivers a notification
 * until it gets a 2xx, so the same message can arrive several times. A message is **claimed**
 * before it is processed, marked **done** only after its reply went out, and **released** when
 * processing failed, so the redelivery processes it again instead of dropping it as a duplicate.
 * A claim is a lease: if the instance holding it dies, the message can be claimed again after
 * `lease` seconds.
 */
export interface MessageDeduplicator {
  /**
   * Atomically claims a message for processing: `"claimed"` (process it now, then `complete` or
   * `release`), `"done"` (already answered: skip it) or `"in-progress"` (another request holds
   * the claim: do not process it, ask for a redelivery).
   */
  claim(messageId: string): Promise<ClaimResult>;
  /** The claimed message was answered: remember it as done for the retention window. */
  complete(messageId: string): Promise<void>;
  /** Processing of the claimed message failed: forget the claim so a redelivery can claim it. */
  release(messageId: string): Promise<void>;
}

export type ClaimResult = "claimed" | "done" | "in-progress";

/** Options for {@link memoryDeduplicator}. */
export interface MemoryDeduplicatorOptions {
  /** How long a done id is remembered, in seconds. WhatsApp retries for up to 7 days; default 1 day. */
  retention?: number;
  /** How long a claim holds before another request may take the message over, in seconds. Default 300. */
  lease?: number;
  /** Most ids remembered; the oldest are forgotten first. Default 100,000. */
  maxEntries?: number;
  now?: () => number;
}

interface MemoryEntry {
  state: "processing" | "done";
  /** ms since epoch after which the entry no longer counts. */
  expiresAt: number;
}

/** Message ids remembered in this process (insertion-ordered, so eviction walks from the front). */
export function memoryDeduplicator(options: MemoryDeduplicatorOptions = {}): MessageDeduplicator {
  const retentionMs = (options.retention ?? 86_400) * 1000;
  const leaseMs = (options.lease ?? 300) * 1000;
  const maxEntries = options.maxEntries ?? 100_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, MemoryEntry>();
  // Re-inserting moves an id to the back, so the front is always the oldest write; entries with
  // a short lease may sit behind longer ones, which only delays their removal until `claim` reads them.
  const write = (messageId: string, entry: MemoryEntry) => {
    entries.delete(messageId);
    entries.set(messageId, entry);
  };
  return {
    async claim(messageId) {
      const time = now();
      for (const [id, entry] of entries) {
        if (entry.expiresAt > time && entries.size < maxEntries) break;
        entries.delete(id);
      }
      const entry = entries.get(messageId);
      if (entry !== undefined && entry.expiresAt > time) return entry.state === "done" ? "done" : "in-progress";
      write(messageId, { state: "processing", expiresAt: time + leaseMs });
      return "claimed";
    },
    async complete(messageId) {
      write(messageId, { state: "done", expiresAt: now() + retentionMs });
    },
    async release(messageId) {
      if (entries.get(messageId)?.state === "processing") entries.delete(messageId);
    },
  };
}

/** The Redis commands the Redis deduplicator needs (ioredis' `set` and `del` have these shapes). */
export interface RedisDeduplicatorClient {
  set(key: string, value: string, expiryMode: "EX", seconds: number, condition: "NX"): Promise<"OK" | null>;
  set(key: string, value: string, expiryMode: "EX", seconds: number): Promise<"OK">;
  get(key: string): Promise<string | null>;
  del(key: string): Promise<number>;
}

/**
 * Message ids remembered in Redis, shared by every instance of the app: `SET NX EX <lease>`
 * claims, `SET EX <retention>` marks done, `DEL` releases.
 */
export function redisDeduplicator(
  client: RedisDeduplicatorClient,
  options: { retention?: number; lease?: number; keyPrefix?: string } = {},
): MessageDeduplicator {
  const retention = options.retention ?? 86_400;
  const lease = options.lease ?? 300;
  const keyPrefix = options.keyPrefix ?? "whatsapp-agent:message:";
  return {
    async claim(messageId) {
      const key = `${keyPrefix}${messageId}`;
      if ((await client.set(key, "processing", "EX", lease, "NX")) === "OK") return "claimed";
      // Lost the race: the holder either finished or is still at it. A key that vanished in
      // between (released, or its lease ran out) counts as in progress: the redelivery claims it.
      return (await client.get(key)) === "done" ? "done" : "in-progress";
    },
    async complete(messageId) {
      await client.set(`${keyPrefix}${messageId}`, "done", "EX", retention);
    },
    async release(messageId) {
      await client.del(`${keyPrefix}${messageId}`);
    },
  };
}
