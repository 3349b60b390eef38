import {
  type CloseRequest,
  type ForgetRequest,
  type ForgetResult,
  type KeyAtTimeRequest,
  type ListPage,
  type ListRequest,
  type ResolvedSession,
  type ResolveRequest,
  type SessionEndEvent,
  SessionError,
  type SessionKey,
  type SessionRecord,
  type SessionStore,
  type TouchRequest,
} from "@threadline/session-core";
import {
  activeSummary,
  describeValue,
  endEvent,
  ended,
  isLive,
  listLimit,
  parseStoredSession,
  renewed,
  resolveStored,
  type StoredSession,
  storeUnavailableError,
  timeEndReason,
  toRecord,
  toResolved,
  userSessionsPage,
} from "@threadline/session-core/store-kit";
import { type BindingOption, bindingOption } from "./binding-option.js";
import type { KVNamespaceLike } from "./bindings.js";
import { assertKeyPrefix, namespaceKeyPart, sessionKey } from "./keys.js";

/** Workers KV's shortest `expirationTtl`, in seconds. */
export const KV_MIN_TTL_SECONDS = 60;

/** Default {@link KVStoreOptions.renewAfter}, in seconds. */
export const DEFAULT_RENEW_AFTER_SECONDS = 30;

/** Options for {@link kvStore}. */
export interface KVStoreOptions {
  /** The KV namespace binding, e.g. `c.env.SESSIONS`. */
  binding: KVNamespaceLike;
  /**
   * Prepended to every key, so sessions can share a namespace with other data. At most 128
   * bytes. Default `"threadline:"`.
   */
  keyPrefix?: string;
  /**
   * Seconds: a live session's renewal is written at most once per this period, and never
   * less often than every quarter of the inactivity timeout. Activity in between is not
   * stored, so a session may expire up to this much earlier than with exact renewal (the
   * effective timeout lies between `timeout - renewAfter` and `timeout`). `0` writes every
   * renewal (exact, and then `capabilities.exactRenewal` is true), at one KV write per call.
   * Default 30.
   */
  renewAfter?: number;
  /**
   * Runs renewal writes in the background instead of awaiting them, e.g.
   * `(promise) => c.executionCtx.waitUntil(promise)`. Creating and ending sessions are always awaited.
   */
  waitUntil?: (promise: Promise<unknown>) => void;
  /**
   * Called when a renewal write fails (typically KV's limit of one write per second per key,
   * hit by two requests of one user renewing at once). The call still succeeds with the
   * session as stored. Default: `console.warn`.
   */
  onRenewalError?: (error: SessionError) => void;
}

/** The KV store: a {@link SessionStore} with `forget` and `list` (live sessions). All methods return promises. */
export interface KVStore extends SessionStore {
  resolve(request: ResolveRequest): Promise<ResolvedSession>;
  touch(request: TouchRequest): Promise<SessionRecord | null>;
  get(request: KeyAtTimeRequest): Promise<SessionRecord | null>;
  close(request: CloseRequest): Promise<SessionEndEvent | null>;
  forget(request: ForgetRequest): Promise<ForgetResult>;
  list(request: ListRequest): Promise<ListPage>;
  /** The renewal throttle in seconds (see {@link KVStoreOptions.renewAfter}). */
  readonly renewAfter: number;
}

/** What each key's KV metadata holds, so `list` skips ended and expired sessions without reading them. */
interface KeyMetadata {
  expiresAt: number;
  ended: boolean;
}

const source = "kv";
const hint = "check the KV binding in your wrangler config";
const bindingSpec: BindingOption<KVNamespaceLike> = {
  name: "binding",
  call: "kvStore({ binding: env.SESSIONS }) (in Hono: c.env.SESSIONS)",
  kind: "a Workers KV namespace binding (kv_namespaces in your wrangler config)",
  isBinding: (value): value is KVNamespaceLike => {
    const binding = value as Partial<KVNamespaceLike> | null | undefined;
    return (
      typeof binding?.get === "function" && typeof binding.put === "function" && typeof binding.list === "function"
    );
  },
};

/**
 * Sessions in Workers KV: cheap and global, but best-effort. Each call is one KV read; a
 * write happens only to create or end a session, or to renew one at most every `renewAfter`
 * seconds. Expiry is kept in the stored value, so timeouts under KV's 60-second minimum TTL
 * work; the KV TTL (at least 60 s) only collects what has expired.
 *
 * Not atomic (`capabilities.atomic` is false): KV has no compare-and-set, so concurrent first
 * requests of one user can each create a session, and a change takes up to about 60 s to
 * reach other locations. When two requests must never disagree, use {@link durableObjectStore}.
 *
 * Cheap to build: make one per request from `c.env` if that is where the binding lives.
 *
 * @example
 * const sessions = new SessionManager({ store: kvStore({ binding: env.SESSIONS }) });
 */
export function kvStore(options: KVStoreOptions): KVStore {
  const binding = bindingOption(options, bindingSpec, source);
  const keyPrefix = options.keyPrefix ?? "threadline:";
  assertKeyPrefix(keyPrefix, source);
  const renewAfter = options.renewAfter ?? DEFAULT_RENEW_AFTER_SECONDS;
  if (typeof renewAfter !== "number" || !Number.isFinite(renewAfter) || renewAfter < 0) {
    throw new SessionError({
      code: "INVALID_OPTION",
      source,
      message: `renewAfter must be a number of seconds ≥ 0, got ${describeValue(renewAfter)}. The default is ${DEFAULT_RENEW_AFTER_SECONDS}.`,
    });
  }
  const renewAfterMs = renewAfter * 1000;
  const waitUntil = options.waitUntil;
  const onRenewalError = options.onRenewalError ?? warn;

  const keyOf = (key: SessionKey): Promise<string> => sessionKey(keyPrefix, key.namespace, key.userId);

  async function read(key: string): Promise<StoredSession | null> {
    let text: string | null;
    try {
      text = await binding.get(key, "text");
    } catch (error) {
      throw storeUnavailableError(source, "read from Workers KV", error, hint);
    }
    return text === null ? null : parseStoredSession(text, source);
  }

  /**
   * Writes `session`. The value decides expiry; the TTL only collects it afterwards, once the
   * session has expired (or ended) and `retentionMs` more have passed, so the pair's next resolve
   * can still report its end and link to it (a tombstone also stays until the session would have
   * expired, for the id rule). KV's TTL runs on its own clock, so it is derived
   * from the time left, not from the stored times themselves.
   */
  async function write(key: string, session: StoredSession, now: number, retentionMs: number): Promise<void> {
    const until =
      session.endedAt === undefined
        ? session.expiresAt + retentionMs
        : Math.max(session.expiresAt, session.endedAt + retentionMs);
    const expirationTtl = Math.max(KV_MIN_TTL_SECONDS, Math.ceil((until - now) / 1000));
    const metadata: KeyMetadata = { expiresAt: session.expiresAt, ended: session.ended };
    try {
      await binding.put(key, JSON.stringify(session), { expirationTtl, metadata });
    } catch (error) {
      throw storeUnavailableError(source, "write to Workers KV", error, hint);
    }
  }

  /**
   * Stores `next`, the renewal of the live `stored`, if the throttle allows (or `always`);
   * returns the session as it now stands in KV. A renewal the throttle skips is not stored at
   * all, its turn included: what the caller gets is what later calls will read.
   */
  async function renew(
    key: string,
    stored: StoredSession,
    next: StoredSession,
    now: number,
    timeoutMs: number,
    retentionMs: number,
    always: boolean,
  ): Promise<StoredSession> {
    // A quarter of the timeout at most, so short timeouts still renew before they run out.
    const throttleMs = Math.min(renewAfterMs, timeoutMs / 4);
    if (!always && now - stored.lastActivityAt < throttleMs) return stored;
    const writing = write(key, next, now, retentionMs);
    if (waitUntil !== undefined) {
      waitUntil(writing.catch(reportRenewalError));
      return next;
    }
    try {
      await writing;
      return next;
    } catch (error) {
      reportRenewalError(error);
      return stored;
    }
  }

  function reportRenewalError(error: unknown): void {
    try {
      onRenewalError(
        SessionError.isInstance(error) ? error : storeUnavailableError(source, "renew a session", error, hint),
      );
    } catch {
      // A throwing error hook must not turn a served request into a failed one.
    }
  }

  return {
    specificationVersion: "v1",
    name: source,
    capabilities: { atomic: false, exactRenewal: renewAfter === 0, exactlyOnceEnds: false, history: false },
    renewAfter,

    async resolve(request: ResolveRequest): Promise<ResolvedSession> {
      const { now, timeoutMs, retentionMs } = request;
      const key = await keyOf(request);
      const stored = await read(key);
      const resolution = resolveStored(stored, request);
      if (!resolution.isNew && stored !== null) {
        // A turn limit needs every turn counted, so with maxTurns each resolve is written.
        const always = request.maxTurns !== undefined;
        const session = await renew(key, stored, resolution.session, now, timeoutMs, retentionMs, always);
        return toResolved({ isNew: false, session });
      }
      // Not atomic: another location may be creating a session (and reporting the same end)
      // for this key right now, and the last write wins. See the README's trade-off section.
      await write(key, resolution.session, now, retentionMs);
      return toResolved(resolution);
    },

    async touch(request: TouchRequest): Promise<SessionRecord | null> {
      const { now, timeoutMs } = request;
      const key = await keyOf(request);
      const stored = await read(key);
      if (!isLive(stored, now)) return null;
      return toRecord(await renew(key, stored, renewed(stored, now, timeoutMs), now, timeoutMs, 0, false));
    },

    async get(request: KeyAtTimeRequest): Promise<SessionRecord | null> {
      const stored = await read(await keyOf(request));
      return isLive(stored, request.now) ? toRecord(stored) : null;
    },

    async close(request: CloseRequest): Promise<SessionEndEvent | null> {
      const { now } = request;
      const key = await keyOf(request);
      const stored = await read(key);
      if (!isLive(stored, now)) return null;
      if (request.sessionId !== undefined && stored.sessionId !== request.sessionId) return null;
      // A tombstone, not a KV delete: it keeps the id until the session would have expired,
      // so the next session gets a different one (and, within the retention, its link).
      const end = endEvent(stored, "closed", now);
      await write(key, ended(stored, end.reason, end.endedAt), now, request.retentionMs);
      return end;
    },

    // Deletes the pair's one key. A location that read the value just before may still write it
    // back (a renewal in flight), as with any KV write race.
    async forget(request: ForgetRequest): Promise<ForgetResult> {
      const { now } = request;
      const key = await keyOf(request);
      const stored = await read(key);
      if (stored === null) return { removed: 0 };
      try {
        await binding.delete(key);
      } catch (error) {
        throw storeUnavailableError(source, "delete from Workers KV", error, hint);
      }
      if (stored.ended) return { removed: 0 };
      const end =
        now >= stored.expiresAt
          ? endEvent(stored, timeEndReason(stored), stored.expiresAt)
          : endEvent(stored, "forgotten", now);
      return { removed: 1, ended: end };
    },

    async list(request: ListRequest): Promise<ListPage> {
      const { now } = request;
      if ((request.status ?? "active") !== "active") {
        throw new SessionError({
          code: "UNSUPPORTED",
          source,
          message:
            'The KV store keeps no history: it lists live sessions only (status "active"). Use the Durable Object store for ended sessions.',
        });
      }
      if (request.userId !== undefined && request.namespace !== undefined) {
        listLimit(request.limit, source);
        const stored = await read(await sessionKey(keyPrefix, request.namespace, request.userId));
        return userSessionsPage(isLive(stored, now) ? [activeSummary(toRecord(stored))] : [], request, source);
      }
      const prefix =
        request.namespace === undefined
          ? keyPrefix
          : `${keyPrefix}${await namespaceKeyPart(keyPrefix, request.namespace)}:`;
      const requested = request.limit ?? 100;
      const limit = Number.isFinite(requested) ? Math.min(1000, Math.max(1, Math.floor(requested))) : 1000;
      let page: Awaited<ReturnType<KVNamespaceLike["list"]>>;
      try {
        page = await binding.list({ prefix, limit, cursor: request.cursor ?? null });
      } catch (error) {
        throw storeUnavailableError(source, "list Workers KV keys", error, hint);
      }
      const candidates = page.keys.filter((entry) => metadataSaysLive(entry.metadata, now));
      const stored = await Promise.all(candidates.map((entry) => read(entry.name)));
      const sessions = stored
        .filter((session) => isLive(session, now))
        .filter((session) => request.namespace === undefined || session.namespace === request.namespace)
        .map((session) => activeSummary(toRecord(session)));
      return page.list_complete || page.cursor === undefined ? { sessions } : { sessions, cursor: page.cursor };
    },
  } satisfies KVStore;
}

function metadataSaysLive(metadata: unknown, now: number): boolean {
  if (typeof metadata !== "object" || metadata === null) return false; // not written by this store
  const { expiresAt, ended } = metadata as Partial<KeyMetadata>;
  return ended === false && typeof expiresAt === "number" && now < expiresAt;
}

function warn(error: SessionError): void {
  console.warn(error.message);
}
