/**
 * Remembers which WhatsApp message ids were already handled. WhatsApp retries a delivery until
 * it gets a 200, so the same message can arrive twice; only its first delivery is processed.
 */
export interface MessageDeduplicator {
  /** True the first time an id is seen within the retention window; false for repeats. Atomic. */
  firstDelivery(messageId: string): Promise<boolean>;
}

/** Options for {@link memoryDeduplicator}. */
export interface MemoryDeduplicatorOptions {
  /** How long an id is remembered, in seconds. WhatsApp retries for up to 7 days; default 1 day. */
  retention?: number;
  /** Most ids remembered; the oldest are forgotten first. Default 100,000. */
  maxEntries?: number;
  now?: () => number;
}

/** Message ids remembered in this process (insertion-ordered, so expiry walks from the front). */
export function memoryDeduplicator(options: MemoryDeduplicatorOptions = {}): MessageDeduplicator {
  const retentionMs = (options.retention ?? 86_400) * 1000;
  const maxEntries = options.maxEntries ?? 100_000;
  const now = options.now ?? Date.now;
  const seenAt = new Map<string, number>();
  return {
    async firstDelivery(messageId) {
      const time = now();
      for (const [id, at] of seenAt) {
        if (at + retentionMs > time && seenAt.size < maxEntries) break;
        seenAt.delete(id);
      }
      if (seenAt.has(messageId)) return false;
      seenAt.set(messageId, time);
      return true;
    },
  };
}

/** The one Redis command the Redis deduplicator needs (ioredis' `set` has this shape). */
export interface RedisSetClient {
  set(key: string, value: string, expiryMode: "EX", seconds: number, condition: "NX"): Promise<"OK" | null>;
}

/** Message ids remembered in Redis with `SET NX EX`, shared by every instance of the app. */
export function redisDeduplicator(
  client: RedisSetClient,
  options: { retention?: number; keyPrefix?: string } = {},
): MessageDeduplicator {
  const retention = options.retention ?? 86_400;
  const keyPrefix = options.keyPrefix ?? "whatsapp-agent:message:";
  return {
    async firstDelivery(messageId) {
      return (await client.set(`${keyPrefix}${messageId}`, "1", "EX", retention, "NX")) === "OK";
    },
  };
}
