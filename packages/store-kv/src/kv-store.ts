import {
  type CloseRequest,
  type KeyAtTimeRequest,
  type ListPage,
  type ListRequest,
  type ResolvedSession,
  type ResolveRequest,
  SessionError,
  type SessionKey,
  type SessionRecord,
  type SessionStore,
  type TouchRequest,
} from "@threadline/session-core";
import {
  describeValue,
  ended,
  isLive,
  nextSession,
  parseStoredSession,
  renewed,
  type StoredSession,
  storeUnavailableError,
  toRecord,
  toResolved,
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

/** The KV store: a {@link SessionStore} with `list`. All methods return promises. */
export interface KVStore extends SessionStore {
  resolve(request: ResolveRequest): Promise<ResolvedSession>;
  touch(request: TouchRequest): Promise<SessionRecord | null>;
  get(request: KeyAtTimeRequest): Promise<SessionRecord | null>;
  close(request: CloseRequest): Promise<boolean>;
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

  async function write(key: string, session: StoredSession, now: number): Promise<void> {
    // The value decides expiry; the TTL only collects it afterwards. KV's TTL runs on its own
    // clock, so it is derived from the time left, not from `expiresAt` itself.
    const expirationTtl = Math.max(KV_MIN_TTL_SECONDS, Math.ceil((session.expiresAt - now) / 1000));
    const metadata: KeyMetadata = { expiresAt: session.expiresAt, ended: session.ended };
    try {
      await binding.put(key, JSON.stringify(session), { expirationTtl, metadata });
    } catch (error) {
      throw storeUnavailableError(source, "write to Workers KV", error, hint);
    }
  }

  /** Renews a live session if the throttle allows; returns the session as it now stands. */
  async function renew(key: string, session: StoredSession, now: number, timeoutMs: number): Promise<StoredSession> {
    // A quarter of the timeout at most, so short timeouts still renew before they run out.
    const throttleMs = Math.min(renewAfterMs, timeoutMs / 4);
    if (now - session.lastActivityAt < throttleMs) return session;
    const next = renewed(session, now, timeoutMs);
    const writing = write(key, next, now);
    if (waitUntil !== undefined) {
      waitUntil(writing.catch(reportRenewalError));
      return next;
    }
    try {
      await writing;
      return next;
    } catch (error) {
      reportRenewalError(error);
      return session;
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
    capabilities: { atomic: false, exactRenewal: renewAfter === 0 },
    renewAfter,

    async resolve(request: ResolveRequest): Promise<ResolvedSession> {
      const { now, timeoutMs } = request;
      const key = await keyOf(request);
      const stored = await read(key);
      if (!request.forceNew && isLive(stored, now)) {
        return toResolved(await renew(key, stored, now, timeoutMs), false);
      }
      // Not atomic: another location may be creating a session for this key right now, and
      // the last write wins. See the README's trade-off section.
      const created = nextSession(stored, request, request.proposeSessionId(), now, timeoutMs);
      await write(key, created, now);
      return toResolved(created, true);
    },

    async touch(request: TouchRequest): Promise<SessionRecord | null> {
      const key = await keyOf(request);
      const stored = await read(key);
      if (!isLive(stored, request.now)) return null;
      return toRecord(await renew(key, stored, request.now, request.timeoutMs));
    },

    async get(request: KeyAtTimeRequest): Promise<SessionRecord | null> {
      const stored = await read(await keyOf(request));
      return isLive(stored, request.now) ? toRecord(stored) : null;
    },

    async close(request: CloseRequest): Promise<boolean> {
      const key = await keyOf(request);
      const stored = await read(key);
      if (!isLive(stored, request.now)) return false;
      if (request.sessionId !== undefined && stored.sessionId !== request.sessionId) return false;
      // A tombstone, not a KV delete: it keeps the id until the session would have expired,
      // so the next session gets a different one.
      await write(key, ended(stored), request.now);
      return true;
    },

    async list(request: ListRequest): Promise<ListPage> {
      const { now } = request;
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
        .map(toRecord);
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
