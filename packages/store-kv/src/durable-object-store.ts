import {
  type AddRunRequest,
  type CloseRequest,
  type ForgetRequest,
  type ForgetResult,
  type ItemsChange,
  type ItemsChangeRequest,
  type ItemsChangeResult,
  type ItemsRequest,
  type KeyAtTimeRequest,
  type ListPage,
  type ListRequest,
  type ResolvedSession,
  type ResolveRequest,
  type RunRecord,
  type RunsPage,
  type SessionEndEvent,
  SessionError,
  type SessionItemStore,
  type SessionKey,
  type SessionRecord,
  type SessionRunStore,
  type SessionStore,
  type SessionSummary,
  type SessionTotals,
  type SweepRequest,
  type TouchRequest,
} from "@threadline/session-core";
import {
  encodeItems,
  encodeItemsChange,
  invalidCursor,
  listLimit,
  storeUnavailableError,
  userSessionsPage,
  utf8Length,
} from "@threadline/session-core/store-kit";
import { type BindingOption, bindingOption } from "./binding-option.js";
import type { DurableObjectIdLike, DurableObjectNamespaceLike } from "./bindings.js";
import { assertKeyPrefix, sessionKey } from "./keys.js";
import {
  type ClaimResult,
  type IndexVisit,
  OBJECT_ORIGIN,
  type ObjectRequest,
  type RunsAnswer,
  readAnswer,
  source,
  type WireResolvedSession,
} from "./protocol.js";

/** Options for {@link durableObjectStore}. */
export interface DurableObjectStoreOptions {
  /** The Durable Object namespace bound to {@link ThreadlineSessionObject}, e.g. `c.env.SESSION_OBJECTS`. */
  namespace: DurableObjectNamespaceLike;
  /**
   * Prepended to every object name, so apps sharing one binding stay apart. At most 128 bytes.
   * Default `"threadline:"`. Stores that share sessions (and sweep them) must use the same one.
   */
  keyPrefix?: string;
  /**
   * Runs the expiry index's bookkeeping (one request per new session) in the background instead
   * of awaiting it, e.g. `(promise) => c.executionCtx.waitUntil(promise)`.
   */
  waitUntil?: (promise: Promise<unknown>) => void;
  /**
   * Called when the expiry index cannot be updated or read (a new session not recorded, a
   * shard a sweep could not reach). The call still succeeds; the session's end is then found
   * by the pair's next resolve, close or forget instead of a sweep. Default: `console.warn`.
   */
  onIndexError?: (error: SessionError) => void;
}

/** The Durable Object store: a {@link SessionStore} with conversation items, history, sweep and forget. */
export interface DurableObjectStore extends SessionStore {
  resolve(request: ResolveRequest): Promise<ResolvedSession>;
  touch(request: TouchRequest): Promise<SessionRecord | null>;
  get(request: KeyAtTimeRequest): Promise<SessionRecord | null>;
  close(request: CloseRequest): Promise<SessionEndEvent | null>;
  forget(request: ForgetRequest): Promise<ForgetResult>;
  sweep(request: SweepRequest): Promise<SessionEndEvent[]>;
  list(request: ListRequest): Promise<ListPage>;
  readonly items: SessionItemStore & {
    apply(request: ItemsChangeRequest, change: ItemsChange): Promise<ItemsChangeResult>;
  };
  readonly runs: SessionRunStore;
}

/** Shards of the expiry index per store (per `keyPrefix`); every sweep asks each once. */
export const EXPIRY_INDEX_SHARDS = 8;
/** Pairs a sweep takes from one shard per request. */
const TAKE_LIMIT = 100;
/** How long (ms) a pair a sweep took stays with it before another sweep may take it again. */
const LEASE_MS = 60_000;

const bindingSpec: BindingOption<DurableObjectNamespaceLike> = {
  name: "namespace",
  call: "durableObjectStore({ namespace: env.SESSION_OBJECTS }) (in Hono: c.env.SESSION_OBJECTS)",
  kind: "a Durable Object namespace binding of ThreadlineSessionObject (durable_objects and migrations in your wrangler config)",
  isBinding: (value): value is DurableObjectNamespaceLike => {
    const namespace = value as Partial<DurableObjectNamespaceLike> | null | undefined;
    return (
      typeof namespace?.idFromName === "function" &&
      typeof namespace.idFromString === "function" &&
      typeof namespace.get === "function"
    );
  },
};

/**
 * Sessions in Durable Objects: one {@link ThreadlineSessionObject} per (namespace, user),
 * found with `idFromName`. Strictly consistent and atomic (`capabilities.atomic`): 20
 * concurrent first requests of one user from anywhere get one session id. Every renewal is
 * stored, each session's end is claimed exactly once (by whichever resolve, close, forget or
 * sweep sees it first), ended sessions are kept for the manager's `retention`, and
 * conversation items live in the same object (`items`), with atomic, idempotent and bounded
 * changes (`items.apply`) and carry-over to the next session, and so are run records with the
 * session's totals (`runs`: atomic with the totals, idempotent by run id, bounded, kept with the
 * ended session while it is in history). Each call is one request to the
 * user's object; creating a session adds one to the store's expiry index, so `sweep`
 * (`cleanupExpired`) finds ends by time at a cost in proportion to them.
 *
 * Listing is per user only (`list` with `userId`): Durable Objects cannot be enumerated.
 *
 * Cheap to build: make one per request from `c.env` if that is where the binding lives.
 *
 * @example
 * const sessions = new SessionManager({ store: durableObjectStore({ namespace: env.SESSION_OBJECTS }) });
 */
export function durableObjectStore(options: DurableObjectStoreOptions): DurableObjectStore {
  const namespace = bindingOption(options, bindingSpec, source);
  const keyPrefix = options.keyPrefix ?? "threadline:";
  assertKeyPrefix(keyPrefix, source);
  const waitUntil = options.waitUntil;
  const onIndexError = options.onIndexError ?? warn;

  /** Sends `request` to the object; its result, typed by the caller, or its error rethrown. */
  async function send<T>(id: DurableObjectIdLike, request: ObjectRequest): Promise<T> {
    let response: { status: number; text: string };
    try {
      const stub = namespace.get(id);
      const body = JSON.stringify(request);
      const answer = await stub.fetch(`${OBJECT_ORIGIN}${request.op}`, { method: "POST", body, headers: {} });
      response = { status: answer.status, text: await answer.text() };
    } catch (error) {
      const hint = "check the binding in your wrangler config";
      throw storeUnavailableError(source, "reach the session's Durable Object", error, hint);
    }
    return readAnswer(response.status, response.text) as T;
  }

  async function pairId(key: SessionKey): Promise<DurableObjectIdLike> {
    return namespace.idFromName(await sessionKey(keyPrefix, key.namespace, key.userId));
  }

  async function call<T>(key: SessionKey, request: ObjectRequest): Promise<T> {
    return send<T>(await pairId(key), request);
  }

  // Index objects are named `{keyPrefix}#expiry-index-{n}`: a pair's name always has a ":"
  // after the prefix (see sessionKey), so no pair can share an index's object.
  // Made on first use: a store built per request for a resolve that renews never needs them.
  let shardIds: DurableObjectIdLike[] | undefined;
  const shards = (): DurableObjectIdLike[] => {
    shardIds ??= Array.from({ length: EXPIRY_INDEX_SHARDS }, (_, shard) =>
      namespace.idFromName(`${keyPrefix}#expiry-index-${shard}`),
    );
    return shardIds;
  };
  const shardOf = (objectId: string): DurableObjectIdLike => {
    const hash = Number.parseInt(objectId.slice(-8), 16);
    return shards()[(Number.isNaN(hash) ? 0 : hash) % EXPIRY_INDEX_SHARDS] as DurableObjectIdLike;
  };

  function reportIndexError(error: unknown): void {
    try {
      onIndexError(
        SessionError.isInstance(error) ? error : storeUnavailableError(source, "update the expiry index", error),
      );
    } catch {
      // A throwing error hook must not turn a served request into a failed one.
    }
  }

  /** Index bookkeeping: in the background with `waitUntil`, else awaited; never fails the call. */
  async function index(request: ObjectRequest & { objectId: string }): Promise<void> {
    const writing = send(shardOf(request.objectId), request).catch(reportIndexError);
    if (waitUntil !== undefined) waitUntil(writing);
    else await writing;
  }

  const decode = (text: string): unknown => JSON.parse(text);
  const items: DurableObjectStore["items"] = {
    // One request to the pair's object, which applies the change in one storage batch: atomic and
    // idempotent across every Worker (see object-items.ts for the layout and its costs).
    async apply(request: ItemsChangeRequest, change: ItemsChange): Promise<ItemsChangeResult> {
      const encoded = encodeItemsChange(change, source); // INVALID_ITEMS before any request
      const { sessionId, now, operationId, bounds } = request;
      return call<ItemsChangeResult>(request, {
        op: "apply",
        sessionId,
        now,
        change: {
          type: encoded.type,
          texts: encoded.texts,
          expectedSuffix: encoded.expectedSuffix,
          continuesGroup: encoded.continuesGroup,
          fingerprint: encoded.fingerprint,
        },
        operationId: operationId ?? null,
        operationKey: operationId === undefined ? null : await operationKey(operationId),
        maxItems: finiteOrNull(bounds.maxItems),
        maxItemBytes: finiteOrNull(bounds.maxItemBytes),
      });
    },
    async append(request: ItemsRequest, newItems: readonly unknown[]): Promise<void> {
      const { sessionId, now } = request;
      await call(request, { op: "append", sessionId, now, items: encodeItems(newItems, source) });
    },
    async list(request: ItemsRequest, limit?: number): Promise<unknown[]> {
      const { sessionId, now } = request;
      return (await call<string[]>(request, { op: "list", sessionId, now, limit: limit ?? null })).map(decode);
    },
    async pop(request: ItemsRequest): Promise<unknown> {
      const text = await call<string | null>(request, { op: "pop", sessionId: request.sessionId, now: request.now });
      return text === null ? undefined : decode(text);
    },
    async clear(request: ItemsRequest): Promise<void> {
      await call(request, { op: "clear", sessionId: request.sessionId, now: request.now });
    },
  };

  const runs: SessionRunStore = {
    // One request to the pair's object, which checks the session, the run id and the bound and
    // writes the record with the totals in one storage batch (see object-runs.ts).
    async add(request: AddRunRequest, record: RunRecord): Promise<SessionTotals> {
      const [text] = encodeItems([record], source) as [string]; // INVALID_ITEMS before any request
      const { sessionId, now, maxRuns } = request;
      const runKey = await operationKey(record.runId);
      return call<SessionTotals>(request, { op: "run", sessionId, now, maxRuns, runKey, text });
    },
    async list(request: ItemsRequest, page?: { cursor?: string; limit?: number }): Promise<RunsPage> {
      const limit = Math.min(listLimit(page?.limit, source), Number.MAX_SAFE_INTEGER);
      const after = page?.cursor === undefined ? 0 : runCursor(page.cursor);
      const { sessionId, now } = request;
      const answer = await call<RunsAnswer>(request, { op: "runs", sessionId, now, after, limit });
      const records = answer.texts.map((text) => JSON.parse(text) as RunRecord);
      return answer.next === null ? { records } : { records, cursor: String(answer.next) };
    },
  };

  /** One shard's part of a sweep: take what is due, visit each pair, settle; until nothing is due. */
  async function sweepShard(shard: DurableObjectIdLike, request: SweepRequest, ends: SessionEndEvent[]) {
    const { now, retentionMs } = request;
    for (;;) {
      const taken = await send<Array<{ objectId: string; token: string }>>(shard, {
        op: "take",
        now,
        limit: TAKE_LIMIT,
        leaseMs: LEASE_MS,
      });
      const visits = await Promise.all(
        taken.map(async ({ objectId, token }): Promise<IndexVisit | undefined> => {
          try {
            const claim = await send<ClaimResult>(namespace.idFromString(objectId), {
              op: "claim",
              now,
              retentionMs,
              carryOverMs: request.carryOverMs ?? 0,
            });
            if (claim.end !== null) ends.push(claim.end);
            return { objectId, token, dueAt: claim.dueAt };
          } catch (error) {
            reportIndexError(error); // left leased: the next sweep after the lease visits it again
            return undefined;
          }
        }),
      );
      const settled = visits.filter((visit) => visit !== undefined);
      if (settled.length > 0) await send(shard, { op: "settle", now, visits: settled });
      if (taken.length < TAKE_LIMIT) return;
    }
  }

  return {
    specificationVersion: "v1",
    name: source,
    capabilities: { atomic: true, exactRenewal: true, exactlyOnceEnds: true, history: true },
    items,
    runs,
    // The object cannot call back into the Worker, so the id is proposed up front and dropped
    // when the session turns out to be live (the contract allows this).
    async resolve(request) {
      const id = await pairId(request);
      const { carried, ...resolved } = await send<WireResolvedSession>(id, {
        op: "resolve",
        namespace: request.namespace,
        userId: request.userId,
        now: request.now,
        timeoutMs: request.timeoutMs,
        forceNew: request.forceNew,
        candidate: request.proposeSessionId(),
        retentionMs: request.retentionMs,
        carryOverMs: request.carryOverMs ?? 0,
        maxDurationMs: request.maxDurationMs ?? null,
        maxTurns: request.maxTurns ?? null,
      });
      // A new session may end by time: the index tells a sweep to look at this pair then.
      if (resolved.isNew) {
        await index({ op: "watch", now: request.now, objectId: id.toString(), dueAt: resolved.expiresAt });
      }
      if (carried === undefined) return resolved;
      return { ...resolved, carried: { sessionId: carried.sessionId, items: carried.texts.map(decode) } };
    },
    touch: (request) => call(request, { op: "touch", now: request.now, timeoutMs: request.timeoutMs }),
    get: (request) => call(request, { op: "get", now: request.now }),
    close: (request) =>
      call(request, {
        op: "close",
        now: request.now,
        sessionId: request.sessionId ?? null,
        retentionMs: request.retentionMs,
        carryOverMs: request.carryOverMs ?? 0,
      }),
    async forget(request) {
      const id = await pairId(request);
      const result = await send<ForgetResult>(id, { op: "forget", now: request.now });
      await index({ op: "unwatch", now: request.now, objectId: id.toString() });
      return result;
    },
    // Sweeps from several Workers at once split the due pairs (leases), and a pair visited twice
    // hands its end to one of them (the claim is the pair object's).
    async sweep(request) {
      const ends: SessionEndEvent[] = [];
      const results = await Promise.allSettled(shards().map((shard) => sweepShard(shard, request, ends)));
      const failures = results.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
      // Nothing claimed: fail like any call. Ends claimed: they must reach the manager, so the
      // failures go to onIndexError and the shards left are swept next time.
      if (ends.length === 0 && failures.length > 0) throw failures[0];
      for (const failure of failures) reportIndexError(failure);
      return ends;
    },
    async list(request) {
      const { namespace: sessionNamespace, userId } = request;
      if (userId === undefined || sessionNamespace === undefined) {
        throw new SessionError({
          code: "UNSUPPORTED",
          source,
          message:
            "The Durable Object store lists one user's sessions only (listSessions({ userId })): Durable Objects cannot be enumerated. To list everyone, keep a listing of your own, or use the KV or Redis store.",
        });
      }
      const sessions = await call<SessionSummary[]>(
        { namespace: sessionNamespace, userId },
        { op: "sessions", now: request.now, status: request.status ?? "active", retentionMs: request.retentionMs ?? 0 },
      );
      return userSessionsPage(sessions, request, source);
    },
  } satisfies DurableObjectStore;
}

/** The run number a cursor of `runs.list` names (as session-core's `runsPage` writes it). */
function runCursor(cursor: string): number {
  const after = Number(cursor);
  if (!Number.isSafeInteger(after) || after < 0 || String(after) !== cursor) throw invalidCursor(source);
  return after;
}

/** JSON has no `Infinity`: an unbounded bound goes over the wire as `null`. */
function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/**
 * An operation id as the object stores it (part of a storage key, at most 2,048 bytes): `=` and
 * the id, or `#` and the SHA-256 of an id longer than 1,024 bytes. Prefixed either way, so a
 * plain id can never equal a hashed one.
 */
async function operationKey(operationId: string): Promise<string> {
  if (utf8Length(operationId) <= 1024) return `=${operationId}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(operationId));
  let hex = "#";
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

function warn(error: SessionError): void {
  console.warn(error.message);
}
