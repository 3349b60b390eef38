// Every behaviour the Agents SDK's own tests check of its `MemorySession`
// (openai/openai-agents-js packages/agents-core/test/memorySession.test.ts and
// historyMutations.test.ts), as one suite any Session with the SDK's optional capabilities can
// run: SessionMemory on each store, and the SDK's MemorySession itself, which proves the port
// says what the SDK says. Store-agnostic: a store's test passes a factory.
//
// Not ported: the two logging cases (MemorySession's debug logger; SessionMemory logs no item at
// all, checked in session-memory.test.ts) and the session id given to the constructor (a
// threadline memory's id is its session's).
import type { AgentInputItem, Session } from "@openai/agents";
import { describe, expect, it } from "vitest";

/** The capabilities the suite exercises, as the SDK types them. */
export interface CapableSession extends Session {
  applyHistoryTransaction(args: unknown): Promise<void> | void;
  applyHistoryMutations(args: unknown): Promise<void> | void;
}

export interface SessionBehaviourOptions {
  /** A new, empty session holding `initialItems`. */
  create: (initialItems?: AgentInputItem[]) => Promise<CapableSession>;
  /** Asserts the rejection a `replace_suffix` whose suffix no longer matches gets. */
  expectSuffixMismatch: (promise: Promise<unknown>) => Promise<void>;
  /** Asserts the rejection an operation id reused with a different transaction gets. */
  expectOperationConflict: (promise: Promise<unknown>) => Promise<void>;
}

const user = (text: string): AgentInputItem => ({ role: "user", content: [{ type: "input_text", text }] });

const call = (callId: string, name: string, args: string, id?: string): AgentInputItem => ({
  type: "function_call",
  ...(id === undefined ? {} : { id }),
  callId,
  name,
  status: "completed",
  arguments: args,
});

/** Runs the SDK's MemorySession cases against the sessions `options.create` makes. */
export function describeSessionBehaviour(name: string, options: SessionBehaviourOptions): void {
  const { create, expectSuffixMismatch, expectOperationConflict } = options;
  const apply = async (session: CapableSession, args: unknown) => session.applyHistoryTransaction(args);

  describe(`${name}: the SDK's MemorySession behaviour`, () => {
    it("stores and retrieves items", async () => {
      const initialItems = [user("hello")];
      const session = await create(initialItems);
      expect(typeof (await session.getSessionId())).toBe("string");
      expect(await session.getItems()).toEqual(initialItems);
      const newItems = [user("one"), user("two")];
      await session.addItems(newItems);
      expect(await session.getItems()).toEqual([...initialItems, ...newItems]);
      expect(await session.getItems(2)).toEqual(newItems);
      expect(await session.popItem()).toEqual(newItems[1]);
      expect(await session.getItems()).toEqual([...initialItems, newItems[0]]);
      await session.clearSession();
      expect(await session.getItems()).toEqual([]);
      expect(await session.getItems(3)).toEqual([]);
      expect(await session.popItem()).toBeUndefined();
    });

    it("returns copies, so changing what goes in or comes out changes nothing stored", async () => {
      const initial = user("start");
      const session = await create([initial]);
      const items = await session.getItems();
      expect(items[0]).not.toBe(initial);
      (items[0] as { content: unknown }).content = "mutated";
      expect(await session.getItems()).toEqual([user("start")]);

      const next = user("next");
      await session.addItems([next]);
      (next as { content: unknown }).content = "mutated";
      expect(await session.getItems()).toEqual([user("start"), user("next")]);

      const popped = await session.popItem();
      expect(popped).toEqual(user("next"));
      if (popped) (popped as { content: unknown }).content = "mutated";
      expect(await session.getItems()).toEqual([user("start")]);
    });

    it("applies history mutations: the first call with the id is replaced, its duplicates go", async () => {
      const session = await create([
        user("start"),
        call("call-1", "lookup", '{"ok":false}', "call-old-1"),
        call("call-1", "lookup", '{"duplicate":true}', "call-old-2"),
      ]);
      const replacement = call("call-1", "lookup", '{"ok":true}', "call-new");
      await session.applyHistoryMutations({
        mutations: [{ type: "replace_function_call", callId: "call-1", replacement }],
      });
      expect(await session.getItems()).toEqual([user("start"), replacement]);
    });

    it("applies history mutations around other items, and keeps no reference to the replacement", async () => {
      const replacement = call("call_1", "fixed", '{"ok":true}');
      const session = await create([
        user("before"),
        call("call_1", "broken", "{}"),
        call("call_2", "keep", "{}"),
        call("call_1", "duplicate", "{}"),
        user("after"),
      ]);
      await session.applyHistoryMutations({
        mutations: [{ type: "replace_function_call", callId: "call_1", replacement }],
      });
      (replacement as { name: string }).name = "mutated";
      expect(await session.getItems()).toEqual([
        user("before"),
        call("call_1", "fixed", '{"ok":true}'),
        call("call_2", "keep", "{}"),
        user("after"),
      ]);
      await session.applyHistoryMutations({ mutations: [] });
      await session.applyHistoryMutations({
        mutations: [{ type: "replace_function_call", callId: "absent", replacement: call("absent", "x", "{}") }],
      });
      expect(await session.getItems()).toHaveLength(4);
    });

    it("applies append transactions idempotently", async () => {
      const session = await create([user("start")]);
      const appended = user("committed");
      const args = { operationId: "operation-append-1", transaction: { type: "append_items", items: [appended] } };
      await apply(session, args);
      (appended as { content: unknown }).content = "mutated";
      await session.addItems([user("later")]);
      await apply(session, {
        operationId: args.operationId,
        transaction: { type: "append_items", items: [user("committed")] },
      });
      expect(await session.getItems()).toEqual([user("start"), user("committed"), user("later")]);
    });

    it("replaces an exact history suffix idempotently", async () => {
      const prefix = user("start");
      const expected = user("blocked");
      const replacement = user("accepted");
      const session = await create([prefix, expected]);
      const transaction = {
        operationId: "operation-replace-1",
        transaction: { type: "replace_suffix", expectedSuffix: [expected], replacement: [replacement] },
      };
      await apply(session, transaction);
      await session.addItems([user("later")]);
      await apply(session, transaction);
      expect(await session.getItems()).toEqual([prefix, replacement, user("later")]);
    });

    it("rejects a suffix mismatch without recording the operation", async () => {
      const start = user("start");
      const session = await create([start]);
      await expectSuffixMismatch(
        Promise.resolve(
          apply(session, {
            operationId: "operation-replace-after-conflict",
            transaction: {
              type: "replace_suffix",
              expectedSuffix: [user("different")],
              replacement: [user("accepted")],
            },
          }),
        ),
      );
      expect(await session.getItems()).toEqual([start]);
      await apply(session, {
        operationId: "operation-replace-after-conflict",
        transaction: { type: "replace_suffix", expectedSuffix: [start], replacement: [user("accepted")] },
      });
      expect(await session.getItems()).toEqual([user("accepted")]);
    });

    it("rejects a suffix longer than the history", async () => {
      const session = await create([user("only")]);
      await expectSuffixMismatch(
        Promise.resolve(
          apply(session, {
            operationId: "too-long",
            transaction: { type: "replace_suffix", expectedSuffix: [user("x"), user("only")], replacement: [] },
          }),
        ),
      );
      expect(await session.getItems()).toEqual([user("only")]);
    });

    it("rejects operation id reuse with different content", async () => {
      const session = await create();
      await apply(session, {
        operationId: "operation-conflict",
        transaction: { type: "append_items", items: [user("first")] },
      });
      await expectOperationConflict(
        Promise.resolve(
          apply(session, {
            operationId: "operation-conflict",
            transaction: { type: "append_items", items: [user("second")] },
          }),
        ),
      );
      expect(await session.getItems()).toEqual([user("first")]);
    });

    it("records an empty append transaction", async () => {
      const session = await create();
      await apply(session, { operationId: "operation-empty", transaction: { type: "append_items", items: [] } });
      await expectOperationConflict(
        Promise.resolve(
          apply(session, {
            operationId: "operation-empty",
            transaction: { type: "append_items", items: [user("unexpected")] },
          }),
        ),
      );
      expect(await session.getItems()).toEqual([]);
    });

    it("resets transaction identities when the session is cleared", async () => {
      const session = await create();
      const transaction = {
        operationId: "operation-after-reset",
        transaction: { type: "append_items", items: [user("committed")] },
      };
      await apply(session, transaction);
      await session.clearSession();
      await apply(session, transaction);
      expect(await session.getItems()).toEqual([user("committed")]);
    });

    it("rejects invalid transaction input before changing anything", async () => {
      const start = user("start");
      const session = await create([start]);
      const attempt = (args: unknown) => Promise.resolve(apply(session, args));
      await expect(attempt({ operationId: "   ", transaction: { type: "append_items", items: [] } })).rejects.toThrow(
        "operationId must be a non-empty string",
      );
      await expect(attempt({ operationId: "operation-unknown", transaction: { type: "unknown" } })).rejects.toThrow(
        "Unsupported session history transaction type",
      );
      await expect(attempt({ operationId: "operation-missing-transaction", transaction: null })).rejects.toThrow(
        "transaction must be an object",
      );
      await expect(
        attempt({ operationId: "operation-invalid-item", transaction: { type: "append_items", items: [42] } }),
      ).rejects.toThrow("items contain invalid or unsupported data");
      expect(await session.getItems()).toEqual([start]);
    });

    it("rejects unsupported metadata (Date, cycle, BigInt, sparse array) before changing anything", async () => {
      const start = user("start");
      const session = await create([start]);
      const withDate = { ...user("unsupported"), providerData: { timestamp: new Date(0) } };
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      const withCycle = { ...user("cyclic"), providerData: cycle };
      const withBigInt = { ...user("bigint"), providerData: { value: 42n } };
      const sparse = new Array<AgentInputItem>(1);
      for (const [operationId, items] of [
        ["operation-date", [withDate]],
        ["operation-cycle", [withCycle]],
        ["operation-bigint", [withBigInt]],
        ["operation-sparse", sparse],
      ] as const) {
        await expect(
          Promise.resolve(apply(session, { operationId, transaction: { type: "append_items", items } })),
        ).rejects.toThrow("items contain invalid or unsupported data");
      }
      expect(await session.getItems()).toEqual([start]);
    });

    it("rejects non-enumerable metadata without recording the operation", async () => {
      const start = user("start");
      const session = await create([start]);
      const item = user("unsupported");
      Object.defineProperty(item, "providerData", { enumerable: false, value: { hidden: true } });
      await expect(
        Promise.resolve(
          apply(session, {
            operationId: "operation-non-enumerable",
            transaction: { type: "append_items", items: [item] },
          }),
        ),
      ).rejects.toThrow("items contain invalid or unsupported data");
      expect(await session.getItems()).toEqual([start]);
      const retryItem = user("retry");
      await apply(session, {
        operationId: "operation-non-enumerable",
        transaction: { type: "append_items", items: [retryItem] },
      });
      expect(await session.getItems()).toEqual([start, retryItem]);
    });

    it("rejects unexpected transaction fields without recording the operation", async () => {
      const start = user("start");
      const session = await create([start]);
      await expect(
        Promise.resolve(
          apply(session, {
            operationId: "operation-unexpected-append-field",
            transaction: { type: "append_items", items: [user("unsupported")], metadata: { attempt: 1 } },
          }),
        ),
      ).rejects.toThrow("append transaction fields are invalid");
      await expect(
        Promise.resolve(
          apply(session, {
            operationId: "operation-unexpected-suffix-field",
            transaction: {
              type: "replace_suffix",
              expectedSuffix: [start],
              replacement: [user("unsupported")],
              metadata: { attempt: 1 },
            },
          }),
        ),
      ).rejects.toThrow("suffix transaction fields are invalid");
      expect(await session.getItems()).toEqual([start]);
      const retryItem = user("retry");
      await apply(session, {
        operationId: "operation-unexpected-append-field",
        transaction: { type: "append_items", items: [retryItem] },
      });
      expect(await session.getItems()).toEqual([start, retryItem]);
    });

    it("does not put transaction content in its errors", async () => {
      const session = await create();
      const item = { ...user("unsupported"), providerData: { secret: Symbol("api-key-secret") } };
      const error = await Promise.resolve(
        apply(session, {
          operationId: "operation-sensitive-invalid",
          transaction: { type: "append_items", items: [item] },
        }),
      ).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain(
        "Session history transaction items contain invalid or unsupported data.",
      );
      expect((error as Error).message).not.toContain("api-key-secret");
      expect(await session.getItems()).toEqual([]);
    });

    it("copies binary data backed by a shared buffer", async () => {
      const session = await create();
      const sharedBytes = new Uint8Array(new SharedArrayBuffer(2));
      sharedBytes.set([3, 7]);
      const item = { ...user("binary"), providerData: { bytes: sharedBytes } };
      await apply(session, {
        operationId: "operation-shared-binary",
        transaction: { type: "append_items", items: [item] },
      });
      sharedBytes[0] = 9;
      const retryItem = { ...user("binary"), providerData: { bytes: new Uint8Array([3, 7]) } };
      await apply(session, {
        operationId: "operation-shared-binary",
        transaction: { type: "append_items", items: [retryItem] },
      });
      const [stored] = await session.getItems();
      const bytes = stored?.providerData?.bytes as Uint8Array | undefined;
      expect(bytes?.[0]).toBe(3);
      expect(await session.getItems()).toHaveLength(1);
    });

    it("treats objects without a prototype as ordinary objects, for retries and suffixes", async () => {
      const session = await create();
      const appended = {
        ...user("canonical"),
        providerData: Object.assign(Object.create(null), { source: "provider" }),
      };
      await apply(session, {
        operationId: "operation-canonical-append",
        transaction: { type: "append_items", items: [appended] },
      });
      const [roundTripped] = await session.getItems();
      await apply(session, {
        operationId: "operation-canonical-append",
        transaction: { type: "append_items", items: [roundTripped] },
      });
      await apply(session, {
        operationId: "operation-canonical-replace",
        transaction: { type: "replace_suffix", expectedSuffix: [appended], replacement: [user("replaced")] },
      });
      expect(await session.getItems()).toEqual([user("replaced")]);
    });

    it("rejects values it cannot copy (other typed arrays, proxies) without recording the operation", async () => {
      const typedArrayItem = { ...user("unsupported-typed-array"), providerData: { values: new Uint16Array([300]) } };
      const proxiedItems = new Proxy([user("proxied")], {});
      const session = await create();
      for (const items of [[typedArrayItem], proxiedItems]) {
        await expect(
          Promise.resolve(
            apply(session, { operationId: "operation-rejected-clone", transaction: { type: "append_items", items } }),
          ),
        ).rejects.toThrow("items contain invalid or unsupported data");
      }
      await apply(session, {
        operationId: "operation-rejected-clone",
        transaction: { type: "append_items", items: [user("accepted-after-rejections")] },
      });
      expect(await session.getItems()).toEqual([user("accepted-after-rejections")]);
    });

    it("reads the transaction envelope once and does not echo an accessor's error", async () => {
      const session = await create();
      let operationIdReads = 0;
      const args = { transaction: { type: "append_items", items: [user("once")] } };
      Object.defineProperty(args, "operationId", {
        enumerable: true,
        get: () => {
          operationIdReads++;
          return operationIdReads === 1 ? "operation-read-once" : "changed";
        },
      });
      await apply(session, args);
      expect(operationIdReads).toBe(1);
      operationIdReads = 0;
      await apply(session, args);
      expect(operationIdReads).toBe(1);
      expect(await session.getItems()).toEqual([user("once")]);

      const throwingArgs = {};
      Object.defineProperty(throwingArgs, "operationId", {
        get: () => {
          throw new Error("api-key-secret");
        },
      });
      const error = await Promise.resolve(apply(session, throwingArgs)).then(
        () => undefined,
        (caught: unknown) => caught as Error,
      );
      expect(error?.message).toContain("Session history transaction arguments are invalid.");
      expect(error?.message).not.toContain("api-key-secret");
    });
  });
}
