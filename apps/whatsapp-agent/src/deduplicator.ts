/**
 * Remembers which WhatsApp message ids were already handled. WhatsApp redelivers a notification
 * until it gets a 2xx, so the same message can arrive several times. A message is **claimed**
 * before it is processed, marked **done** only after its reply went out, and **released** when
 * processing failed, so the redelivery processes it again instead of dropping it as a duplicate.
 *
 * A claim is a lease with a random token: if the instance holding it stalls or dies, another
 * request may claim the message again after `lease` seconds and gets a new token. Only the current
 * token releases a claim, so a holder that comes back late can never drop its successor's claim.
 */
export interface MessageDeduplicator {
  /**
   * Seconds a claim holds before another request may take the message over. Declared so the app
   * can check that its agent timeout ends well inside it. Optional for deduplicators of your own.
   */
  readonly lease?: number;
  /**
   * Atomically claims a message for processing. `claimed` (process it now, then `complete` or
   * `release` with the token), `done` (already answered: skip it) or `in-progress` (another
   * request holds a live claim: do not process it, ask for a redelivery).
   */
  claim(messageId: string): Promise<ClaimResult>;
  /**
   * The claimed message was answered (its reply went out): remember it as done for the retention
   * window, atomically. The message is marked done whatever the claim's state, because the reply
   * was sent and a redelivery must not answer it again; a done mark is never removed by `release`.
   * Returns `completed` when the claim was still this token's (or had expired with nobody taking
   * over), `taken-over` when another request had claimed (or finished) the message meanwhile:
   * that request may answer it a second time, and the lease is too short for this deployment.
   */
  complete(messageId: string, token: string): Promise<CompleteResult>;
  /**
   * Processing failed: drops the claim, atomically and only if it still carries `token`, so a
   * redelivery can claim the message. `false` when the claim was no longer this token's (taken
   * over, or done): it is left as it is.
   */
  release(messageId: string, token: string): Promise<boolean>;
}

export type ClaimResult = { status: "claimed"; token: string } | { status: "done" } | { status: "in-progress" };

export type CompleteResult = "completed" | "taken-over";

/**
 * A claim's lease ran out before its reply was marked done, and another request took the message
 * over: the user may get the reply twice. Reported through the app's `onError`; the message
 * itself was answered (and is marked done).
 */
export class ClaimTakenOverError extends Error {
  override readonly name = "ClaimTakenOverError";
  readonly messageId: string;
  constructor(messageId: string) {
    super(
      `[whatsapp-agent] message ${messageId} was answered after its claim's lease ran out and another request had taken it over, which may answer it again: make the lease longer than the agent timeout plus the send`,
    );
    this.messageId = messageId;
  }
}

/** Options for {@link memoryDeduplicator}. */
export interface MemoryDeduplicatorOptions {
  /** How long a done id is remembered, in seconds. WhatsApp retries for up to 7 days; default 1 day. */
  retention?: number;
  /** How long a claim holds before another request may take the message over, in seconds. Default 300. */
  lease?: number;
  /** Most ids remembered; the oldest are forgotten first. Default 100,000. */
  maxEntries?: number;
  /** The clock (ms since epoch). Default `Date.now`. */
  now?: () => number;
}

type MemoryEntry =
  /** `expiresAt`: ms since epoch after which the entry no longer counts. */
  { state: "processing"; token: string; expiresAt: number } | { state: "done"; expiresAt: number };

/** Message ids remembered in this process (insertion-ordered, so eviction walks from the front). */
export function memoryDeduplicator(options: MemoryDeduplicatorOptions = {}): MessageDeduplicator {
  const retention = positiveSeconds("retention", options.retention ?? 86_400);
  const lease = positiveSeconds("lease", options.lease ?? 300);
  const maxEntries = options.maxEntries ?? 100_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, MemoryEntry>();
  // Re-inserting moves an id to the back, so the front is always the oldest write; entries with
  // a short lease may sit behind longer ones, which only delays their removal until `claim` reads them.
  const write = (messageId: string, entry: MemoryEntry) => {
    entries.delete(messageId);
    entries.set(messageId, entry);
  };
  /** The entry if it still counts (an expired one is as good as absent, as a Redis key past its TTL). */
  const live = (messageId: string, time: number) => {
    const entry = entries.get(messageId);
    return entry !== undefined && entry.expiresAt > time ? entry : undefined;
  };
  const holds = (entry: MemoryEntry | undefined, token: string) =>
    entry?.state === "processing" && entry.token === token;
  return {
    lease,
    async claim(messageId) {
      const time = now();
      for (const [id, entry] of entries) {
        if (entry.expiresAt > time && entries.size < maxEntries) break;
        entries.delete(id);
      }
      const entry = live(messageId, time);
      if (entry !== undefined) return { status: entry.state === "done" ? "done" : "in-progress" };
      const token = crypto.randomUUID();
      write(messageId, { state: "processing", token, expiresAt: time + lease * 1000 });
      return { status: "claimed", token };
    },
    async complete(messageId, token) {
      const time = now();
      // An expired claim of this token still counts as held: nobody took over.
      const entry = entries.get(messageId);
      const held = holds(entry, token) || live(messageId, time) === undefined;
      write(messageId, { state: "done", expiresAt: time + retention * 1000 });
      return held ? "completed" : "taken-over";
    },
    async release(messageId, token) {
      if (!holds(entries.get(messageId), token)) return false;
      entries.delete(messageId);
      return true;
    },
  };
}

/** The Redis command the Redis deduplicator needs: ioredis' `eval` (a `Redis` or `Cluster`). */
export interface RedisDeduplicatorClient {
  eval(script: string, numberOfKeys: number, ...keysAndArguments: string[]): Promise<unknown>;
}

/** Options for {@link redisDeduplicator}. */
export interface RedisDeduplicatorOptions {
  /** How long a done id is remembered, in seconds. Default 1 day. */
  retention?: number;
  /** How long a claim holds before another request may take the message over, in seconds. Default 300. */
  lease?: number;
  /** Prepended to each message id. Default `"whatsapp-agent:message:"`. */
  keyPrefix?: string;
  /**
   * The clock that decides when a lease ran out (ms since epoch). Default: the Redis server's
   * (`TIME`, read inside each script), so instances whose clocks disagree still agree. Given, the
   * app's clock decides instead (inject a fake one in tests); the key's TTL still drops a claim
   * after `lease` seconds of real time, whichever comes first.
   */
  now?: () => number;
}

// One key per message. Its value is `done`, or `claim:<token>:<expiresAt ms>` while a request
// holds it. Each operation is one script: read, compare, write, with nothing in between. A value
// of another shape (`processing`, written by the version before tokens) counts as a live claim of
// someone else until its TTL drops it, so a rolling deploy never processes a message twice.
// ARGV[3] of `claim` is `now` in whole ms, or "" to read the server's clock.
const claimScript = `
local nowMs = tonumber(ARGV[3])
if ARGV[3] == '' then
  local time = redis.call('TIME')
  nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local value = redis.call('GET', KEYS[1])
if value == 'done' then return 'done' end
if value then
  local expiresAt = tonumber(string.match(value, '^claim:[^:]+:(%d+)$'))
  if expiresAt == nil or nowMs < expiresAt then return 'in-progress' end
end
local leaseMs = tonumber(ARGV[2])
redis.call('SET', KEYS[1], 'claim:' .. ARGV[1] .. ':' .. string.format('%.0f', nowMs + leaseMs), 'PX', leaseMs)
return 'claimed'
`;

// ARGV: token, retention (s). Marks done whatever the value (see MessageDeduplicator.complete);
// reports whether the claim was still this token's.
const completeScript = `
local value = redis.call('GET', KEYS[1])
local held = (not value) or string.find(value, 'claim:' .. ARGV[1] .. ':', 1, true) == 1
redis.call('SET', KEYS[1], 'done', 'EX', ARGV[2])
if held then return 'completed' end
return 'taken-over'
`;

// ARGV: token. Deletes the key only while it holds this token's claim.
const releaseScript = `
local value = redis.call('GET', KEYS[1])
if value and string.find(value, 'claim:' .. ARGV[1] .. ':', 1, true) == 1 then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

/**
 * Message ids remembered in Redis, shared by every instance of the app. Claim, complete and
 * release are each one Lua script (atomic, one round trip); claims carry a random token, so a
 * holder whose lease ran out cannot release its successor's claim.
 */
export function redisDeduplicator(
  client: RedisDeduplicatorClient,
  options: RedisDeduplicatorOptions = {},
): MessageDeduplicator {
  const retention = Math.ceil(positiveSeconds("retention", options.retention ?? 86_400));
  const lease = positiveSeconds("lease", options.lease ?? 300);
  const leaseMs = String(Math.max(1, Math.round(lease * 1000)));
  const keyPrefix = options.keyPrefix ?? "whatsapp-agent:message:";
  const now = options.now;
  return {
    lease,
    async claim(messageId) {
      const token = crypto.randomUUID();
      const time = now === undefined ? "" : String(Math.floor(now()));
      const status = await client.eval(claimScript, 1, `${keyPrefix}${messageId}`, token, leaseMs, time);
      if (status === "claimed") return { status, token };
      if (status === "done" || status === "in-progress") return { status };
      throw new Error(`[whatsapp-agent] unexpected reply of the claim script: ${String(status)}`);
    },
    async complete(messageId, token) {
      const result = await client.eval(completeScript, 1, `${keyPrefix}${messageId}`, token, String(retention));
      return result === "completed" ? "completed" : "taken-over";
    },
    async release(messageId, token) {
      return (await client.eval(releaseScript, 1, `${keyPrefix}${messageId}`, token)) === 1;
    },
  };
}

function positiveSeconds(name: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new Error(`[whatsapp-agent] ${name} must be a positive number of seconds, got ${String(value)}`);
  }
  return value;
}
