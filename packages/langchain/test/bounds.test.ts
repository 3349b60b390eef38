// Nothing the handler holds grows without a bound: runs that never end, their parts, and (through
// the manager's background cleanup) the sessions of the default memory store.
import { RunnableLambda } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { type ErrorContext, memoryStore, type RunRecord, type SessionManager } from "@threadline/session-core";
import { createFakeClock } from "@threadline/session-core/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ThreadlineCallbackHandler } from "../src/index.js";

function recordingHandler(options: ConstructorParameters<typeof ThreadlineCallbackHandler>[0] = {}) {
  const records: RunRecord[] = [];
  const errors: { error: Error; context: ErrorContext }[] = [];
  const handler = new ThreadlineCallbackHandler({
    onRecord: (record) => void records.push(record),
    onError: (error, context) => void errors.push({ error, context }),
    ...options,
  });
  return { handler, records, errors };
}

/**
 * A two-step streaming chain: the first chunk comes at once; the rest, from a child run, only
 * once `gate` opens and the stream is read on.
 */
function streamingChain(gate: Promise<void> = Promise.resolve()) {
  const finish = RunnableLambda.from((_text: string) => "done");
  return RunnableLambda.from((text: string) => text).pipe(
    RunnableLambda.from(async function* (text: string, config) {
      yield text.slice(0, 10);
      await gate;
      yield await finish.invoke(text, config);
    }),
  );
}

/** Starts a stream, reads its first chunk and returns the reader, as a client that went away would leave it. */
async function abandonedStream(
  handler: ThreadlineCallbackHandler,
  input: string,
  userId: string,
  chain = streamingChain(),
) {
  const stream = await chain.stream(input, { callbacks: [handler], metadata: { user_id: userId } });
  const reader = stream[Symbol.asyncIterator]();
  await reader.next();
  return reader;
}

describe("bounds", () => {
  it("holds at most maxRunsInFlight runs that never end, dropping the oldest and reporting each once", async () => {
    const { handler, records, errors } = recordingHandler();
    // Runs that start and never end, as a request whose client went away mid-run leaves them.
    const neverEnds = RunnableLambda.from((_input: string) => new Promise<string>(() => {}));
    const megabyte = "x".repeat(1_000_000);
    for (let index = 0; index < 1_500; index++) {
      void neverEnds.invoke(megabyte, { callbacks: [handler], metadata: { user_id: `user-${index % 50}` } });
    }
    await handler.flush();
    expect(handler.openRuns).toBe(1_000); // the default maxRunsInFlight
    expect(records).toEqual([]);
    const evicted = errors.filter((failure) => failure.context.operation === "evict");
    expect(evicted).toHaveLength(500);
    expect(new Set(evicted.map((failure) => failure.context.runId)).size).toBe(500);
    expect(errors).toHaveLength(500);
    expect(evicted[0]?.error.message).toMatch(
      /^\[threadline\] \[langchain\] Run .* had not ended .*raise maxRunsInFlight/,
    );
  });

  it("drops abandoned streams the same way", async () => {
    const { handler, records, errors } = recordingHandler({ maxRunsInFlight: 100 });
    const large = "x".repeat(100_000);
    for (let index = 0; index < 300; index++) await abandonedStream(handler, large, `user-${index % 50}`);
    await handler.flush();
    expect(handler.openRuns).toBe(100);
    expect(records).toEqual([]);
    expect(errors.map((failure) => failure.context.operation)).toEqual(Array(200).fill("evict"));
  });

  it("ignores a dropped run when it does end, children included, and keeps following the others", async () => {
    const { handler, records, errors } = recordingHandler({ maxRunsInFlight: 2 });
    let open = () => {};
    const chain = streamingChain(new Promise<void>((resolve) => (open = resolve)));
    const oldest = await abandonedStream(handler, "first", "ada", chain);
    const second = await abandonedStream(handler, "second", "bob", chain);
    const third = await abandonedStream(handler, "third", "cy", chain);
    expect(errors.map((failure) => [failure.context.operation, failure.context.userId])).toEqual([["evict", "ada"]]);
    // The dropped run goes on: a child starts and everything ends, none of it taken for a new root.
    open();
    for (const reader of [oldest, second, third]) while (!(await reader.next()).done);
    await handler.flush();
    expect(records.map((record) => [record.userId, record.output])).toEqual([
      ["bob", { output: "seconddone" }],
      ["cy", { output: "thirddone" }],
    ]);
    expect(handler.openRuns).toBe(0);
    expect(errors).toHaveLength(1);
  });

  it("keeps at most maxToolCallsPerRun tool calls and maxValueLength characters of each value", async () => {
    const { handler, records } = recordingHandler({ maxToolCallsPerRun: 3, maxValueLength: 100 });
    const echoTool = tool(async ({ text }: { text: string }) => text.repeat(50), {
      name: "echo",
      description: "Repeats text.",
      schema: z.object({ text: z.string() }),
    });
    const chain = RunnableLambda.from(async (input: { text: string }, config) => {
      for (let call = 0; call < 10; call++) await echoTool.invoke({ text: `call ${call} ` }, config);
      return { text: input.text.repeat(2) };
    });
    await chain.invoke({ text: "y".repeat(5_000) }, { callbacks: [handler], metadata: { user_id: "ada" } });
    await handler.flush();
    const [record] = records;
    expect(record?.toolCalls.map((call) => call.name)).toEqual(["echo", "echo", "echo"]);
    expect(record?.toolCalls[0]?.input).toBe(JSON.stringify({ text: "call 0 " }));
    expect(record?.toolCalls[0]?.output).toBe(`${"call 0 ".repeat(50).slice(0, 100)}… [truncated by threadline]`);
    // Values too long are kept as the start of their JSON and a note.
    expect(record?.input).toBe(`{"text":"${"y".repeat(91)}… [truncated by threadline]`);
    expect(record?.output).toBe(`{"text":"${"y".repeat(91)}… [truncated by threadline]`);
    expect(String(record?.output).length).toBeLessThan(200);
  });

  it("leaves only live sessions in the default memory store an hour later (the manager cleans up in the background)", async () => {
    const clock = createFakeClock();
    const store = memoryStore();
    const { handler, records } = recordingHandler({ store, now: clock.now });
    const echo = RunnableLambda.from((text: string) => text);
    for (let index = 0; index < 200; index++) {
      await echo.invoke("hi", { callbacks: [handler], metadata: { user_id: `user-${index}` } });
    }
    await handler.flush();
    expect(store.size).toBe(200);
    clock.advance(3_600);
    await echo.invoke("back", { callbacks: [handler], metadata: { user_id: "user-0" } });
    await handler.flush();
    expect(store.size).toBe(1);
    expect(records).toHaveLength(201);
  });

  it("does the same with the store the handler builds itself", async () => {
    const clock = createFakeClock();
    const handler = new ThreadlineCallbackHandler({ now: clock.now });
    const sessions: SessionManager = handler.sessionManager;
    const echo = RunnableLambda.from((text: string) => text);
    for (let index = 0; index < 200; index++) {
      await echo.invoke("hi", { callbacks: [handler], metadata: { user_id: `user-${index}` } });
    }
    await handler.flush();
    clock.advance(3_600);
    await echo.invoke("back", { callbacks: [handler], metadata: { user_id: "user-0" } });
    await handler.flush();
    expect(sessions.store.name).toBe("memory");
    expect((sessions.store as ReturnType<typeof memoryStore>).size).toBe(1);
  });
});
