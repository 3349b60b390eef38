import { type MemoryStore, memoryStore, SessionError, type SessionStore } from "@threadline/session-core";

/** A memory store that can be taken down: while `down`, every call fails as an unreachable backend would. */
export interface SwitchableStore extends SessionStore {
  down: boolean;
  /** What a failing call throws: a `SessionError` (as stores must) or a bare `Error` (as a buggy one might). */
  failure: "unavailable" | "bare-error";
  readonly inner: MemoryStore;
}

export function switchableStore(): SwitchableStore {
  const inner = memoryStore();
  const check = (): void => {
    if (!store.down) return;
    if (store.failure === "bare-error") throw new Error("socket hang up");
    throw new SessionError({
      code: "STORE_UNAVAILABLE",
      source: "test",
      message: "The test store is down (connection refused). Start it again.",
    });
  };
  const store: SwitchableStore = {
    specificationVersion: "v1",
    name: "switchable",
    capabilities: inner.capabilities,
    down: false,
    failure: "unavailable",
    inner,
    async resolve(request) {
      check();
      return inner.resolve(request);
    },
    async touch(request) {
      check();
      return inner.touch(request);
    },
    async get(request) {
      check();
      return inner.get(request);
    },
    async close(request) {
      check();
      return inner.close(request);
    },
    async sweep(now) {
      check();
      return inner.sweep(now);
    },
  };
  return store;
}
