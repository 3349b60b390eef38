import {
  type CloseRequest,
  type EndKeeping,
  type ForgetRequest,
  type ForgetResult,
  type KeyAtTimeRequest,
  type ListPage,
  type ListRequest,
  type ResolvedSession,
  type ResolveRequest,
  type SessionEndEvent,
  SessionError,
  type SessionItemStore,
  type SessionRecord,
  type SessionRunStore,
  type SessionStore,
  type SweepRequest,
  type TouchRequest,
} from "@threadline/session-core";
import { type ClientKind, type RedisClientLike, transportFor } from "./client.js";
import { source } from "./failures.js";
import { redisItemStore } from "./items.js";
import { pairKeys, slotKeyring } from "./keys.js";
import { createLister } from "./list.js";
import { readEnd, readForget, readRecord, readResolved } from "./replies.js";
import { redisRunStore } from "./runs.js";
import { createRunner } from "./script-runner.js";
import { RENEWAL_PERIOD_MS, scripts } from "./scripts.js";
import { createSweeper } from "./sweep.js";

/** Options for {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * A connected client you own: ioredis `Redis` or `Cluster`, or node-redis `createClient()`
   * or `createCluster()` (after `connect()`). The store never closes it.
   */
  client: RedisClientLike;
  /**
   * Prepended to every key. Must not contain `{` or `}` (the store puts the Cluster hash tag
   * after it). Default `"threadline:"`.
   */
  keyPrefix?: string;
  /**
   * Whose clock decides liveness and timestamps.
   * - `"server"` (default): the Redis server's clock (`TIME`, read inside each script), so app
   *   instances whose clocks disagree still agree on when a session expires. The manager's
   *   `now` is then only used to format new session ids.
   * - `"app"`: the `now` the manager passes (its `now` option, `Date.now` by default). Use it
   *   with a fake clock in tests, or when every instance's clock is trusted.
   */
  clock?: "server" | "app";
  /**
   * Milliseconds each operation may take, including the client's own reconnects, retries and
   * offline queueing, before it rejects with `STORE_UNAVAILABLE`. Default 2000.
   */
  operationTimeoutMs?: number;
  /**
   * Milliseconds a session's conversation items stay in Redis after the session stopped being
   * live by expiring (ending it or replacing it deletes them at once): the items list's TTL is
   * `timeout + expiredRetentionMs`, renewed with every activity. Default 60000.
   */
  expiredRetentionMs?: number;
  /**
   * Milliseconds the pair's id history (creation counter, latest base id, latest creation time)
   * stays after the pair's last activity: the session record's TTL is
   * `timeout + max(idHistoryMs, expiredRetentionMs, retention)`, renewed with every resolve. While
   * it lives, no id of the pair comes back, even from an app instance whose clock lags by up to
   * `timeout + idHistoryMs`, and the end of a session that expired can still be claimed (by a
   * cleanup or the pair's next resolve): an end nobody claimed within it is lost. Costs about
   * 300 bytes per pair active within that time. Default 3600000 (one hour).
   */
  idHistoryMs?: number;
  /**
   * Index entries a cleanup claims per script call (one slot at a time on a cluster): bounds how
   * long one call holds Redis. Default 100.
   */
  sweepBatchSize?: number;
}

/** The Redis store, with what it recognised. */
export interface RedisStore extends SessionStore {
  /** Get-or-create-and-renew as one EVALSHA, atomic across every process. Renews: `lastActivityAt = now`, TTL slid. */
  resolve(request: ResolveRequest): Promise<ResolvedSession>;
  /** Renews the live session as one EVALSHA, atomic; never creates one. */
  touch(request: TouchRequest): Promise<SessionRecord | null>;
  /** The live session without renewing it (one read-only script call). */
  get(request: KeyAtTimeRequest): Promise<SessionRecord | null>;
  /**
   * Ends the live session as one EVALSHA, atomic: claims its end ("closed"), keeps it in history for
   * `retentionMs`, and keeps a tombstone (no items) until the key's TTL.
   */
  close(request: CloseRequest): Promise<SessionEndEvent | null>;
  /**
   * Claims the ends of sessions that ran out of time and nobody claimed, from the expiry index:
   * costs in proportion to the entries due (expired sessions, and renewed ones re-scored at most
   * about once per timeout), plus on a cluster one index read per slot (16,384, pipelined per master).
   */
  sweep(request: SweepRequest): Promise<SessionEndEvent[]>;
  /** Deletes every key of the pair and its index entry as one EVALSHA, atomic. */
  forget(request: ForgetRequest): Promise<ForgetResult>;
  /**
   * With `userId`: that user's sessions (live, unclaimed expiry, history) from two keys in one
   * MULTI/EXEC. Without: by SCAN (never KEYS), every master on a cluster. At most `limit`
   * (default 100) per page.
   */
  list(request: ListRequest): Promise<ListPage>;
  /** Conversation items in a list beside the session, same Cluster slot, gone with the session. */
  readonly items: SessionItemStore;
  /**
   * Run records and totals in a hash per session beside it, same Cluster slot: each add is one
   * EVALSHA, atomic with the totals and idempotent by run id; kept with the ended session while it
   * is in history, deleted by `forget`.
   */
  readonly runs: SessionRunStore;
  /** Which client library and topology the store recognised. */
  readonly clientKind: ClientKind;
  /** Whose clock decides liveness: `"server"` or `"app"`. */
  readonly clock: "server" | "app";
}

/**
 * Sessions in Redis or Redis Cluster, shared by every process that uses the same Redis.
 *
 * Every `resolve` (get-or-create-and-renew), `touch` and `close` is one Lua script run by
 * EVALSHA: one command, one round trip, atomic on the node that owns the user's hash slot. So
 * N concurrent first calls from any number of processes give one session, and a session closed
 * or replaced within the same second still gets a new id. Each session's end is claimed once,
 * in the script that ends it, across every process; `cleanupExpired()` claims the ends of
 * sessions that expired from an expiry index, at a cost in proportion to what expired.
 *
 * @example
 * const sessions = new SessionManager({ store: redisStore({ client: new Redis(process.env.REDIS_URL ?? "redis://localhost:6379") }) });
 */
export function redisStore(options: RedisStoreOptions): RedisStore {
  if (transportFor(options) !== undefined) {
    throw new SessionError({
      code: "INVALID_OPTION",
      source,
      message: "redisStore takes an options object: write `redisStore({ client })`, not `redisStore(client)`.",
    });
  }
  if (typeof options !== "object" || options === null) {
    throw new SessionError({
      code: "INVALID_OPTION",
      source,
      message: `redisStore needs options: write \`redisStore({ client })\`, got ${String(options)}.`,
    });
  }
  const transport = transportFor(options.client);
  if (transport === undefined) {
    throw new SessionError({
      code: "INVALID_OPTION",
      source,
      message:
        "client must be an ioredis Redis or Cluster, or a node-redis client or cluster (from createClient or createCluster).",
    });
  }
  const keyPrefix = options.keyPrefix ?? "threadline:";
  if (typeof keyPrefix !== "string" || /[{}]/.test(keyPrefix)) {
    throw new SessionError({
      code: "INVALID_OPTION",
      source,
      message: `keyPrefix must be a string without "{" or "}" (the store adds the Cluster hash tag itself), got ${JSON.stringify(keyPrefix)}.`,
    });
  }
  const clock = options.clock ?? "server";
  if (clock !== "server" && clock !== "app") {
    throw new SessionError({
      code: "INVALID_OPTION",
      source,
      message: `clock must be "server" or "app", got ${JSON.stringify(clock)}.`,
    });
  }
  const operationTimeoutMs = wholeMilliseconds(
    options.operationTimeoutMs ?? 2000,
    "operationTimeoutMs",
    1,
    2_147_483_647,
  );
  const retentionMs = wholeMilliseconds(options.expiredRetentionMs ?? 60_000, "expiredRetentionMs", 0);
  const idHistoryMs = wholeMilliseconds(options.idHistoryMs ?? 3_600_000, "idHistoryMs", 0);
  const sweepBatchSize = wholeMilliseconds(options.sweepBatchSize ?? 100, "sweepBatchSize", 1, 10_000);

  const runner = createRunner(transport, operationTimeoutMs);
  const run = runner.script;
  // "" tells the scripts to read the server's clock. Redis keeps whole milliseconds.
  const nowArgument = clock === "server" ? () => "" : (now: number) => String(Math.floor(now));
  // TTLs, slid with activity (once per renewal period, so each is a period longer; see scripts.ts):
  // the record (with the id history, and long enough for the history and carried items it keeps)
  // and the items (long enough for carry-over to find them after an expiry).
  const keptMs = Math.max(idHistoryMs, retentionMs);
  const recordTtl = (inactivityTimeoutMs: number, historyMs = 0, carryOverMs = 0) =>
    String(inactivityTimeoutMs + Math.max(historyMs, keptMs, carryOverMs) + RENEWAL_PERIOD_MS);
  const itemsTtl = (inactivityTimeoutMs: number, carryOverMs = 0) =>
    String(inactivityTimeoutMs + Math.max(retentionMs, carryOverMs) + RENEWAL_PERIOD_MS);
  const slots = slotKeyring(keyPrefix, transport.kind.endsWith("-cluster"));

  // RedisStore extends SessionStore, so this checks the contract and the extras together.
  return {
    specificationVersion: "v1",
    name: source,
    capabilities: { atomic: true, exactRenewal: true, exactlyOnceEnds: true, history: true },
    clientKind: transport.kind,
    clock,
    items: redisItemStore({ runner, keyPrefix, nowArgument, retentionMs }),
    runs: redisRunStore({ runner, keyPrefix, nowArgument }),

    resolve(request) {
      const keys = pairKeys(keyPrefix, request.namespace, request.userId);
      const shared = slots.ofTag(keys.tag);
      const { maxDurationMs, maxTurns } = request;
      const carryOverMs = carryOf(request);
      // The script cannot call back into JavaScript, so the id of a possible new session is
      // proposed up front (the contract allows it) and discarded when the session is live.
      const args = [
        nowArgument(request.now),
        String(request.timeoutMs),
        request.forceNew ? "new" : maxTurns === undefined ? "" : String(maxTurns),
        request.proposeSessionId(),
        recordTtl(request.timeoutMs, request.retentionMs, carryOverMs),
        itemsTtl(request.timeoutMs, carryOverMs),
        // The time the id was proposed for, in the manager's clock (the id rule compares seconds of
        // this clock even when the server's decides liveness), the retention, the max duration and
        // the carry-over.
        `${Math.floor(request.now)} ${request.retentionMs} ${maxDurationMs === undefined ? "" : maxDurationMs} ${carryOverMs}`,
      ];
      return run(
        scripts.resolve,
        [keys.session, keys.items, keys.operations, keys.history, shared.index, shared.forgotten],
        args,
      ).then((reply) => readResolved(reply, request));
    },

    async touch(request) {
      const keys = pairKeys(keyPrefix, request.namespace, request.userId);
      const args = [
        nowArgument(request.now),
        String(request.timeoutMs),
        recordTtl(request.timeoutMs),
        itemsTtl(request.timeoutMs),
      ];
      return readRecord(await run(scripts.touch, [keys.session, keys.items, keys.operations], args), request, "touch");
    },

    async get(request) {
      const keys = pairKeys(keyPrefix, request.namespace, request.userId);
      return readRecord(await run(scripts.get, [keys.session], [nowArgument(request.now)]), request, "get");
    },

    async close(request) {
      const keys = pairKeys(keyPrefix, request.namespace, request.userId);
      const onlySessionId = request.sessionId ?? ""; // "" ends whatever session is live
      const reply = await run(
        scripts.close,
        [keys.session, keys.items, keys.operations, keys.history, slots.ofTag(keys.tag).index],
        [nowArgument(request.now), onlySessionId, String(request.retentionMs), keys.tag, String(carryOf(request))],
      );
      return readEnd(reply, request, "close");
    },

    async forget(request) {
      const keys = pairKeys(keyPrefix, request.namespace, request.userId);
      const shared = slots.ofTag(keys.tag);
      const reply = await run(
        scripts.forget,
        [keys.session, keys.items, keys.operations, keys.history, shared.index, shared.forgotten],
        [nowArgument(request.now), keys.tag],
      );
      return readForget(reply, request);
    },

    sweep: createSweeper({ transport, runner, keyPrefix, nowArgument, slots, batchSize: sweepBatchSize }),

    list: createLister({ transport, runner, keyPrefix, nowArgument }),
  } satisfies RedisStore;
}

/** The request's carry-over in whole ms (0 for none). */
function carryOf(request: EndKeeping): number {
  const carryOverMs = request.carryOverMs ?? 0;
  return Number.isFinite(carryOverMs) && carryOverMs > 0 ? Math.floor(carryOverMs) : 0;
}

/** `value` if it is a whole number of milliseconds in `[min, max]`, else `INVALID_OPTION` naming the option. */
function wholeMilliseconds(value: number, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (Number.isSafeInteger(value) && value >= min && value <= max) return value;
  throw new SessionError({
    code: "INVALID_OPTION",
    source,
    message: `${name} must be a whole number of milliseconds ≥ ${min}, got ${String(value)}.`,
  });
}
