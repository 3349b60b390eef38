// The slice of `cloudflare:test` the tests use, typed with this package's binding shapes.
// (`@cloudflare/workers-types` declares `crypto` as a const, which hides `globalThis.crypto`
// that session-core uses; test/types/binding-compat.ts checks those types fit ours instead.)
declare module "cloudflare:test" {
  import type {
    DurableObjectNamespaceLike,
    DurableObjectStorageLike,
    DurableObjectStubLike,
    KVNamespaceLike,
  } from "../src/index.js";

  /** The test Worker's bindings, as vitest.config.ts declares them. */
  export const env: {
    SESSIONS: KVNamespaceLike & { delete(key: string): Promise<void> };
    SESSION_OBJECTS: DurableObjectNamespaceLike;
  };
  export function runInDurableObject<R>(
    stub: DurableObjectStubLike,
    callback: (instance: unknown, state: { storage: DurableObjectStorageLike }) => R | Promise<R>,
  ): Promise<R>;
  export function runDurableObjectAlarm(stub: DurableObjectStubLike): Promise<boolean>;
}

declare module "cloudflare:workers" {
  /** The test Worker's exports (vitest.config.ts `main`); `default` is its fetch handler. */
  export const exports: {
    default: { fetch(input: string, init?: { headers?: Record<string, string> }): Promise<Response> };
  };
}
