import { memoryStore, SessionError, type SessionStore } from "@threadline/session-core";

/** A memory store that can be taken down: while `down`, every method rejects with STORE_UNAVAILABLE. */
export function flakyStore(): { store: SessionStore; setDown(down: boolean): void } {
  const inner = memoryStore();
  let down = false;
  function guard<T>(operation: () => T | Promise<T>): Promise<T> {
    if (down) {
      return Promise.reject(
        new SessionError({ code: "STORE_UNAVAILABLE", source: "flaky", message: "The test store is down." }),
      );
    }
    return Promise.resolve(operation());
  }
  const store = {
    specificationVersion: "v1",
    name: "flaky",
    capabilities: inner.capabilities,
    resolve: (request) => guard(() => inner.resolve(request)),
    touch: (request) => guard(() => inner.touch(request)),
    get: (request) => guard(() => inner.get(request)),
    close: (request) => guard(() => inner.close(request)),
    items: {
      append: (request, items) => guard(() => inner.items.append(request, items)),
      list: (request, limit) => guard(() => inner.items.list(request, limit)),
      pop: (request) => guard(() => inner.items.pop(request)),
      clear: (request) => guard(() => inner.items.clear(request)),
    },
  } satisfies SessionStore;
  return {
    store,
    setDown(next) {
      down = next;
    },
  };
}
