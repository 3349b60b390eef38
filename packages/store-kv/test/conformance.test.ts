import { env } from "cloudflare:test";
import { describeSessionStore, uniqueNamespace } from "@threadline/session-core/testing";
import { expect, it } from "vitest";
import { durableObjectStore, kvStore } from "../src/index.js";

it("runs inside workerd, not Node", () => {
  expect((globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent).toBe("Cloudflare-Workers");
  expect(typeof (globalThis as { WebSocketPair?: unknown }).WebSocketPair).toBe("function"); // a workerd-only global
});

// Throttled renewal (the default): exact-renewal and atomic cases are skipped by flag.
describeSessionStore("kv (renewAfter 30 s)", { createStore: () => kvStore({ binding: env.SESSIONS }) });

// renewAfter 0 writes every renewal, so the exact-renewal cases and the model-based test run too.
describeSessionStore("kv (renewAfter 0, exact)", {
  createStore: () => kvStore({ binding: env.SESSIONS, renewAfter: 0 }),
  propertyRuns: 25,
});

// A sweep covers every pair of its keyPrefix (the store's expiry index), so each store gets its
// own prefix, as each test gets its own namespace: one test's sweep never claims another's ends.
describeSessionStore("durable-object", {
  createStore: () => durableObjectStore({ namespace: env.SESSION_OBJECTS, keyPrefix: `${uniqueNamespace()}:` }),
  propertyRuns: 25,
});
