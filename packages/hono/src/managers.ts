import { assertValidId, SessionError, SessionManager, type SessionStore } from "@threadline/session-core";
import type { Context, Env } from "hono";
import { waitUntilOf } from "./background.js";
import type { StoreFactory, ThreadlineSessionOptions } from "./types.js";

/** A manager and the time its store is next due for a cleanup of expired sessions. */
export interface ManagerSlot {
  readonly manager: SessionManager;
  /** ms since epoch; `Infinity` when cleanup is off or the store expires sessions by itself. */
  nextCleanupAt: number;
}

/**
 * Returns the manager for a request. With a fixed store or an injected manager that is one manager;
 * with a store function it is one manager per store object, kept in a WeakMap owned by this
 * middleware instance (never module-level), so two apps never share managers and a store that is
 * dropped takes its manager with it.
 */
export function managerSource<E extends Env>(
  options: ThreadlineSessionOptions<E>,
  cleanupIntervalMs: number,
): (c: Context<E>) => ManagerSlot {
  const newSlot = (manager: SessionManager): ManagerSlot => ({
    manager,
    nextCleanupAt: cleanupDue(manager.store, cleanupIntervalMs)
      ? manager.now() + cleanupIntervalMs
      : Number.POSITIVE_INFINITY,
  });

  if (options.sessionManager !== undefined) {
    assertNoManagerOptions(options);
    // Duck-typed: `instanceof` fails when two copies of session-core are installed.
    if (typeof options.sessionManager.resolve !== "function") {
      throw optionError("sessionManager must be a SessionManager from @threadline/session-core.");
    }
    const slot = newSlot(options.sessionManager);
    return () => slot;
  }

  const managerOptions = {
    namespace: options.namespace,
    inactivityTimeout: options.inactivityTimeout,
    now: options.now,
    idFormat: options.idFormat,
  };
  const store = options.store;
  if (typeof store !== "function") {
    const slot = newSlot(new SessionManager({ ...managerOptions, store }));
    return () => slot;
  }

  // Checks the options once, up front, so a typo fails at startup rather than on the first request.
  new SessionManager(managerOptions);
  const slots = new WeakMap<SessionStore, ManagerSlot>();
  return (c) => {
    const requestStore = storeFor(store, c);
    let slot = slots.get(requestStore);
    if (slot === undefined) {
      slot = newSlot(new SessionManager({ ...managerOptions, store: requestStore }));
      slots.set(requestStore, slot);
    }
    return slot;
  };
}

function storeFor<E extends Env>(build: StoreFactory<E>, c: Context<E>): SessionStore {
  let store: SessionStore;
  try {
    store = build(c, { waitUntil: waitUntilOf(c) });
  } catch (error) {
    throw optionError(
      `The store function threw: ${error instanceof Error ? error.message : String(error)}. Check the binding it reads (c.env).`,
      error,
    );
  }
  if (typeof store !== "object" || store === null) {
    throw optionError("The store function must return a SessionStore (an object), e.g. memoryStore().");
  }
  return store;
}

function cleanupDue(store: SessionStore, cleanupIntervalMs: number): boolean {
  return cleanupIntervalMs > 0 && typeof store.sweep === "function";
}

function assertNoManagerOptions<E extends Env>(options: ThreadlineSessionOptions<E>): void {
  const conflicting = (["store", "inactivityTimeout", "now", "idFormat"] as const).filter(
    (name) => options[name] !== undefined,
  );
  if (conflicting.length > 0) {
    throw optionError(
      `sessionManager cannot be combined with ${conflicting.join(", ")}: those belong to the manager. Set them where you build it.`,
    );
  }
  if (options.namespace !== undefined) assertValidId(options.namespace, "namespace");
}

/** A configuration mistake, reported as `[threadline] [hono] …`. */
export function optionError(message: string, cause?: unknown): SessionError {
  return new SessionError({ code: "INVALID_OPTION", source: "hono", message, cause });
}
