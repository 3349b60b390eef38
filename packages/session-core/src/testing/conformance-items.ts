import { describe, expect, it } from "vitest";
import type { SessionManager, SessionManagerOptions } from "../session-manager.js";
import type { SessionStore } from "../store.js";
import type { FakeClock } from "./fake-clock.js";

/** What an items case needs from the suite around it, read when the case runs. */
export interface ItemsSuiteState {
  store: SessionStore;
  clock: FakeClock;
  manager(overrides?: SessionManagerOptions): SessionManager;
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => (error as { code?: string }).code,
  );
}

/**
 * The cases of atomic, idempotent and bounded item changes (`items.apply`): operation ids,
 * compare-and-swap of the suffix, compaction, trimming whole groups, refusing what cannot fit,
 * and the same under concurrency. Skipped for stores whose items lack `apply`.
 */
export function describeItemChangeCases(state: () => ItemsSuiteState): void {
  describe("item changes", () => {
    const skipUnlessApply = (context: { skip: (note: string) => void }) => {
      const { store } = state();
      if (store.items?.apply === undefined) context.skip("store items have no apply");
    };

    it("appends once per operation id; a different change under that id fails and changes nothing", async (context) => {
      skipUnlessApply(context);
      const sessions = state().manager();
      const session = await sessions.resolve("user");
      await sessions.addItems(session, ["hello"], { operationId: "wamid.1" });
      await sessions.addItems(session, ["hello"], { operationId: "wamid.1" });
      expect(
        await sessions.changeItems(session, { type: "append", items: ["hello"] }, { operationId: "wamid.1" }),
      ).toEqual({ applied: false, trimmed: 0 });
      expect(await codeOf(sessions.addItems(session, ["other"], { operationId: "wamid.1" }))).toBe(
        "OPERATION_CONFLICT",
      );
      await sessions.addItems(session, ["hello"], { operationId: "wamid.2" });
      expect(await sessions.getItems(session)).toEqual(["hello", "hello"]);
    });

    it("replaces a suffix only if the history still ends with it", async (context) => {
      skipUnlessApply(context);
      const sessions = state().manager();
      const session = await sessions.resolve("user");
      await sessions.addItems(session, [
        { role: "user", content: "hi" },
        { type: "function_call", id: "a" },
      ]);
      const mismatch = sessions.changeItems(session, {
        type: "replace-suffix",
        expectedSuffix: [{ type: "function_call", id: "b" }],
        replacement: [{ type: "function_call", id: "c" }],
      });
      expect(await codeOf(mismatch)).toBe("HISTORY_MISMATCH");
      const tooLong = sessions.changeItems(session, {
        type: "replace-suffix",
        expectedSuffix: ["x", "y", "z"],
        replacement: [],
      });
      expect(await codeOf(tooLong)).toBe("HISTORY_MISMATCH");
      expect(
        await sessions.changeItems(session, {
          type: "replace-suffix",
          expectedSuffix: [{ type: "function_call", id: "a" }],
          replacement: [
            { type: "function_call", id: "a2" },
            { type: "function_call_output", id: "a2" },
          ],
        }),
      ).toEqual({ applied: true, trimmed: 0 });
      expect(await sessions.getItems(session)).toEqual([
        { role: "user", content: "hi" },
        { type: "function_call", id: "a2" },
        { type: "function_call_output", id: "a2" },
      ]);
    });

    it("compacts with replace-all, idempotently", async (context) => {
      skipUnlessApply(context);
      const sessions = state().manager();
      const session = await sessions.resolve("user");
      await sessions.addItems(session, ["1", "2", "3"]);
      const compaction = { type: "replace-all" as const, items: [{ type: "compaction", summary: "1-2" }, "3"] };
      await sessions.changeItems(session, compaction, { operationId: "compact-1" });
      await sessions.addItems(session, ["4"]);
      expect((await sessions.changeItems(session, compaction, { operationId: "compact-1" })).applied).toBe(false);
      expect(await sessions.getItems(session)).toEqual([{ type: "compaction", summary: "1-2" }, "3", "4"]);
    });

    it("trims whole groups, oldest first, to maxItems and maxItemBytes", async (context) => {
      skipUnlessApply(context);
      const sessions = state().manager({ maxItems: 5 });
      const session = await sessions.resolve("user");
      await sessions.addItems(session, ["q1", "call1", "out1"]);
      await sessions.addItems(session, ["q2"]);
      await sessions.addItems(session, ["a2"], { continuesGroup: true });
      expect(await sessions.changeItems(session, { type: "append", items: ["q3"] })).toEqual({
        applied: true,
        trimmed: 3, // the whole first turn, never half of it
      });
      expect(await sessions.getItems(session)).toEqual(["q2", "a2", "q3"]);

      // Bytes are UTF-8: "ção" is 5 bytes, its JSON text 7.
      const byBytes = state().manager({ maxItemBytes: 16 });
      const other = await byBytes.resolve("bytes");
      await byBytes.addItems(other, ["ção"]);
      await byBytes.addItems(other, ["ção"]);
      expect(await byBytes.getItems(other)).toEqual(["ção", "ção"]);
      expect((await byBytes.changeItems(other, { type: "append", items: ["ção"] })).trimmed).toBe(1);
      expect(await byBytes.getItems(other)).toEqual(["ção", "ção"]);
    });

    it("refuses a group larger than the bounds by itself and keeps the history", async (context) => {
      skipUnlessApply(context);
      const sessions = state().manager({ maxItems: 3, maxItemBytes: 100 });
      const session = await sessions.resolve("user");
      await sessions.addItems(session, ["kept"]);
      expect(await codeOf(sessions.addItems(session, ["a", "b", "c", "d"]))).toBe("ITEMS_TOO_LARGE");
      expect(await codeOf(sessions.addItems(session, ["x".repeat(200)]))).toBe("ITEMS_TOO_LARGE");
      await sessions.addItems(session, ["a", "b"], { continuesGroup: true });
      expect(await codeOf(sessions.addItems(session, ["c"], { continuesGroup: true }))).toBe("ITEMS_TOO_LARGE");
      expect(await sessions.getItems(session)).toEqual(["kept", "a", "b"]);
    });

    it("forgets the operation ids with the items on clear: a fresh start", async (context) => {
      skipUnlessApply(context);
      const sessions = state().manager();
      const session = await sessions.resolve("user");
      await sessions.addItems(session, ["one"], { operationId: "op" });
      await sessions.clearItems(session);
      await sessions.addItems(session, ["one"], { operationId: "op" });
      expect(await sessions.getItems(session)).toEqual(["one"]);
    });

    it("refuses changes to an ended session, and a new session starts with no operation ids", async (context) => {
      skipUnlessApply(context);
      const { clock } = state();
      const sessions = state().manager();
      const first = await sessions.resolve("user");
      await sessions.addItems(first, ["one"], { operationId: "op" });
      clock.advance(120);
      expect(await codeOf(sessions.addItems(first, ["late"], { operationId: "late" }))).toBe("SESSION_ENDED");
      const second = await sessions.resolve("user");
      await sessions.addItems(second, ["one"], { operationId: "op" });
      expect(await sessions.getItems(second)).toEqual(["one"]);
    });

    it("applies a retried operation once and one of racing suffix swaps, under concurrency", async (context) => {
      skipUnlessApply(context);
      if (!state().store.capabilities.atomic) return context.skip("store is not atomic");
      const sessions = state().manager();
      const session = await sessions.resolve("user");
      const retries = await Promise.all(
        Array.from({ length: 20 }, () =>
          sessions.changeItems(session, { type: "append", items: ["once"] }, { operationId: "retried" }),
        ),
      );
      expect(retries.filter((result) => result.applied)).toHaveLength(1);
      const swaps = await Promise.allSettled(
        Array.from({ length: 10 }, (_, index) =>
          sessions.changeItems(session, {
            type: "replace-suffix",
            expectedSuffix: ["once"],
            replacement: [`swap-${index}`],
          }),
        ),
      );
      expect(swaps.filter((result) => result.status === "fulfilled")).toHaveLength(1);
      const items = await sessions.getItems(session);
      expect(items).toHaveLength(1);
      expect(String(items[0])).toMatch(/^swap-\d$/);
    });

    it("remembers at least the latest 1,000 operation ids of a session", async (context) => {
      skipUnlessApply(context);
      const sessions = state().manager({ maxItems: 10 });
      const session = await sessions.resolve("user");
      for (let index = 0; index < 1_000; index++) {
        await sessions.addItems(session, [index], { operationId: `op-${index}` });
      }
      expect(
        (await sessions.changeItems(session, { type: "append", items: [0] }, { operationId: "op-0" })).applied,
      ).toBe(false);
      expect(
        (await sessions.changeItems(session, { type: "append", items: [999] }, { operationId: "op-999" })).applied,
      ).toBe(false);
    });

    it("carries an ended session's items over to the next session once, and only within `within`", async (context) => {
      skipUnlessApply(context);
      const { clock } = state();
      const seeds: Array<{ previousSessionId: string; items: unknown[] }> = [];
      const sessions = state().manager({
        carryOver: {
          within: 600,
          seed: ({ previousSessionId, items }) => {
            seeds.push({ previousSessionId, items });
            return [`digest of ${items.length}`];
          },
        },
      });
      const first = await sessions.resolve("user");
      await sessions.addItems(first, ["a", "b"]);
      clock.advance(120); // expired, its end not yet claimed: the next resolve ends it and carries
      const [second, racing] = await Promise.all([sessions.resolve("user"), sessions.resolve("user")]);
      expect(racing.sessionId).toBe(second.sessionId);
      expect(seeds).toEqual([{ previousSessionId: first.sessionId, items: ["a", "b"] }]);
      expect(await sessions.getItems(second)).toEqual(["digest of 2"]);

      await sessions.addItems(second, ["c"]);
      await sessions.closeSession("user");
      clock.advance(601); // past `within`: nothing to carry
      const third = await sessions.resolve("user");
      expect(seeds).toHaveLength(1);
      expect(await sessions.getItems(third)).toEqual([]);

      await sessions.addItems(third, ["private"]);
      await sessions.closeSession("user");
      await sessions.forgetUser("user"); // erases the carried items too
      await sessions.resolve("user");
      expect(seeds).toHaveLength(1);
    });

    it("rejects malformed changes with clear codes before changing anything", async (context) => {
      skipUnlessApply(context);
      const sessions = state().manager();
      const session = await sessions.resolve("user");
      await sessions.addItems(session, ["kept"]);
      expect(await codeOf(sessions.changeItems(session, { type: "prepend", items: [] } as never))).toBe(
        "INVALID_ITEMS",
      );
      expect(await codeOf(sessions.changeItems(session, { type: "append", items: [() => 1] }))).toBe("INVALID_ITEMS");
      expect(await codeOf(sessions.addItems(session, ["x"], { operationId: "" }))).toBe("INVALID_OPTION");
      expect(await sessions.getItems(session)).toEqual(["kept"]);
    });
  });
}
