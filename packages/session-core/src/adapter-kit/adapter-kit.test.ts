import { afterEach, describe, expect, it, vi } from "vitest";
import { SessionError } from "../errors.js";
import { memoryStore } from "../memory-store/index.js";
import { SessionManager } from "../session-manager.js";
import { createFakeClock } from "../testing/fake-clock.js";
import { hostileIds } from "../testing/hostile-ids.js";
import { createErrorSink } from "./error-sink.js";
import { globalSessionId } from "./global-session-id.js";
import { assertOptionalFunction, managerFromOptions } from "./manager-from-options.js";
import { PendingWork } from "./pending-work.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("managerFromOptions", () => {
  it("builds a manager from the options, on the given clock and store", async () => {
    const clock = createFakeClock();
    const store = memoryStore();
    const manager = managerFromOptions({ namespace: "support", inactivityTimeout: 30, store, now: clock.now }, "test");
    expect(manager.namespace).toBe("support");
    expect(manager.inactivityTimeout).toBe(30);
    expect(manager.now()).toBe(clock.now());
    await manager.resolve("user");
    expect(store.size).toBe(1);
  });

  it("returns an injected manager as it is, and accepts a namespace beside it", () => {
    const sessionManager = new SessionManager();
    expect(managerFromOptions({ sessionManager, namespace: "other" }, "test")).toBe(sessionManager);
  });

  it("refuses a manager together with the options the manager owns, naming them", () => {
    const sessionManager = new SessionManager();
    for (const extra of [
      { store: memoryStore() },
      { inactivityTimeout: 5 },
      { now: () => 0 },
      { idFormat: "uuid" as const },
      { cleanupInterval: 1 },
    ]) {
      const name = Object.keys(extra)[0] as string;
      expect(() => managerFromOptions({ sessionManager, ...extra }, "hono")).toThrow(
        expect.objectContaining({ code: "INVALID_OPTION", source: "hono", message: expect.stringContaining(name) }),
      );
    }
  });

  it("refuses what is not a manager, and a bad namespace, with the adapter's name", () => {
    expect(() => managerFromOptions({ sessionManager: {} as SessionManager }, "langchain")).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION", source: "langchain" }),
    );
    expect(() => managerFromOptions({ sessionManager: new SessionManager(), namespace: "" }, "x")).toThrow(
      expect.objectContaining({ code: "INVALID_NAMESPACE" }),
    );
    expect(() => managerFromOptions({ inactivityTimeout: -1 }, "openai-agents")).toThrow(
      expect.objectContaining({ code: "INVALID_TIMEOUT", source: "openai-agents" }),
    );
    expect(() => managerFromOptions(undefined as never, "x")).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION" }),
    );
  });

  it("checks callback options when the adapter is built", () => {
    expect(() => assertOptionalFunction(undefined, "onRecord", "(record) => void", "x")).not.toThrow();
    expect(() => assertOptionalFunction(() => {}, "onRecord", "(record) => void", "x")).not.toThrow();
    expect(() => assertOptionalFunction("x", "onRecord", "(record) => void", "x")).toThrow(
      /onRecord must be a function \(record\) => void, got "x"/,
    );
  });
});

describe("createErrorSink", () => {
  it("hands every failure to onError as an Error with its context", () => {
    const seen: [Error, string][] = [];
    const sink = createErrorSink("test", (error, context) => seen.push([error, context.operation]));
    const failure = new SessionError({ code: "STORE_UNAVAILABLE", message: "down" });
    sink.report(failure, { operation: "resolve" });
    sink.report("a string", { operation: "record" });
    sink.report({ odd: true }, { operation: "record" });
    expect(seen[0]).toEqual([failure, "resolve"]);
    expect(seen[1]?.[0]).toBeInstanceOf(Error);
    expect(seen[1]?.[0].message).toBe("a string");
    expect(seen[2]?.[0].cause).toEqual({ odd: true });
  });

  it("by default logs the first failure of each operation only", () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const sink = createErrorSink("test", undefined);
    for (let index = 0; index < 5; index++) sink.report(new Error("down"), { operation: "resolve" });
    sink.report(new Error("bad record"), { operation: "record" });
    expect(log).toHaveBeenCalledTimes(2);
    expect(String(log.mock.calls[0]?.[0])).toMatch(/\[threadline\] \[test\] resolve failed.*pass onError/);
  });

  it("never throws, even when onError does", () => {
    const sink = createErrorSink("test", () => {
      throw new Error("logger down");
    });
    expect(() => sink.report(new Error("x"), { operation: "resolve" })).not.toThrow();
  });

  it("refuses an onError that is not a function", () => {
    expect(() => createErrorSink("hono", "log" as never)).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION", source: "hono" }),
    );
  });
});

describe("PendingWork", () => {
  it("flush waits for tracked work and for work started meanwhile, then forgets it", async () => {
    const work = new PendingWork();
    const order: string[] = [];
    let release!: () => void;
    work.track(
      new Promise<void>((resolve) => {
        release = resolve;
      }).then(() => {
        order.push("first");
        work.track(Promise.resolve().then(() => order.push("second")));
      }),
    );
    expect(work.size).toBe(1);
    const flushed = work.flush().then(() => order.push("flushed"));
    release();
    await flushed;
    expect(order).toEqual(["first", "second", "flushed"]);
    expect(work.size).toBe(0);
  });
});

describe("globalSessionId", () => {
  it("tells apart pairs whose readable ids coincide", async () => {
    const clock = createFakeClock();
    const manager = new SessionManager({ now: clock.now });
    const vip = await manager.resolve("123", "support-vip");
    const other = await manager.resolve("vip-123", "support");
    expect(vip.sessionId).toBe(other.sessionId); // the guide's format, ambiguous by design
    expect(globalSessionId(vip)).not.toBe(globalSessionId(other));
    expect(globalSessionId(vip)).toBe("support-vip/123/support-vip-123-20250107-120000");
  });

  it("is printable ASCII for any id, and decodes back to the triple", () => {
    for (const userId of hostileIds) {
      const session = { namespace: "n/s", userId, sessionId: `n/s-${userId}-20250107-120000` };
      const key = globalSessionId(session);
      expect(key).toMatch(/^[\x21-\x7e]+$/);
      expect(key.split("/").map(decodeURIComponent)).toEqual([session.namespace, session.userId, session.sessionId]);
    }
  });
});

describe("PendingWork under constant load", () => {
  it("flush ends even while new work keeps arriving", async () => {
    const work = new PendingWork();
    let stop = false;
    const keepBusy = (): void => {
      if (stop) return;
      work.track(Promise.resolve().then(keepBusy));
    };
    keepBusy();
    await work.flush(); // would never resolve if it waited for an empty set
    stop = true;
    await work.flush();
    expect(work.size).toBe(0);
  });
});

describe("anonymousFallback", () => {
  it("returns the anonymous user and warns once, naming what to write", async () => {
    const { anonymousFallback, ANONYMOUS_USER_ID } = await import("./anonymous-user.js");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const fallback = anonymousFallback("test", "run(…, { userId })");
    expect([fallback(), fallback(), fallback()]).toEqual([ANONYMOUS_USER_ID, ANONYMOUS_USER_ID, ANONYMOUS_USER_ID]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(
      /\[threadline\] \[test\] A run named no user.*Pass run\(…, \{ userId \}\)/,
    );
  });
});
