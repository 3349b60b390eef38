import { memoryStore, SessionError, type SessionManager, type SessionStore } from "@threadline/session-core";
import { managerFromOptions } from "@threadline/session-core/adapter-kit";
import type { Context, Env } from "hono";
import { waitUntilOf } from "./background.js";
import type { StoreFactory, StoreFactoryTools, ThreadlineSessionOptions } from "./types.js";

/** The adapter's name in messages: `[threadline] [hono] …`. */
export const SOURCE = "hono";

/**
 * Returns the manager for a request, built by the adapter kit's one rule (`sessionManager`, or
 * the manager-owned options). With a fixed store or an injected manager that is one manager; with
 * a store function it is one manager per store object, kept in a WeakMap owned by this middleware
 * instance (never module-level), so two apps never share managers and a store that is dropped
 * takes its manager with it.
 */
export function managerSource<E extends Env>(options: ThreadlineSessionOptions<E>): (c: Context<E>) => SessionManager {
  const { store } = options;
  if (typeof store !== "function") {
    const manager = managerFromOptions({ ...options, store }, SOURCE);
    return () => manager;
  }
  // The factory itself passed as a store function would build a new, empty store per request:
  // every request would start a new session and nothing would persist.
  if (store === memoryStore) {
    throw optionError(
      "store: memoryStore passes the factory, so every request would get a new empty store and no session would last. Call it once: store: memoryStore().",
    );
  }
  if (options.sessionManager !== undefined) {
    throw optionError(
      "Pass either sessionManager or a store function, not both: the manager already has its store. Build one manager per store yourself, or drop sessionManager.",
    );
  }
  // Checks the other options once, up front, so a typo fails at startup rather than on the first request.
  managerFromOptions({ ...options, store: undefined }, SOURCE);

  const managers = new WeakMap<SessionStore, SessionManager>();
  return (c) => {
    const requestStore = storeFor(store, c);
    let manager = managers.get(requestStore);
    if (manager === undefined) {
      manager = managerFromOptions({ ...options, store: requestStore }, SOURCE);
      managers.set(requestStore, manager);
    }
    return manager;
  };
}

function storeFor<E extends Env>(build: StoreFactory<E>, c: Context<E>): SessionStore {
  // A getter: only store functions that read `waitUntil` pay for probing `c.executionCtx`.
  const tools: StoreFactoryTools = {
    get waitUntil() {
      return waitUntilOf(c);
    },
  };
  let store: SessionStore;
  try {
    store = build(c, tools);
  } catch (error) {
    throw optionError(
      `The store function threw: ${error instanceof Error ? error.message : String(error)}. Check the binding it reads (c.env).`,
      error,
    );
  }
  // Checked here: `undefined` (a missing binding) would otherwise mean "the default memory store".
  if (typeof store !== "object" || store === null) {
    throw optionError(
      `The store function must return a SessionStore object, got ${store === null ? "null" : typeof store}. Check the binding it reads (c.env).`,
    );
  }
  return store;
}

/** A configuration mistake, reported as `[threadline] [hono] …`. */
export function optionError(message: string, cause?: unknown): SessionError {
  return new SessionError({ code: "INVALID_OPTION", source: SOURCE, message, cause });
}
