// Real LangChain runnables with a fake chat model. Spans come from inside the chain (a lambda
// with a nested child, as a tool or a retriever's client would make them) and from a callback
// handler that opens a span per run, as callback-based instrumentations do.
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { RunnableLambda } from "@langchain/core/runnables";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { type Span, trace } from "@opentelemetry/api";
import { sessionConfigFor, ThreadlineCallbackHandler } from "@threadline/langchain";
import { SessionManager } from "@threadline/session-core";
import { describe, expect, it } from "vitest";
import { withSession } from "../src/index.js";
import { expected, sessionOf, useTracing } from "./support.js";

const tracing = useTracing();
const tracer = () => trace.getTracer("test");

/** Opens a span per LangChain run in its callbacks, like a callback-based instrumentation. */
class SpanPerRunHandler extends BaseCallbackHandler {
  name = "span-per-run";
  readonly #spans = new Map<string, Span>();
  constructor(awaited: boolean) {
    super();
    this.awaitHandlers = awaited;
  }
  override handleChainStart(
    _chain: unknown,
    _inputs: unknown,
    runId: string,
    _parent?: string,
    _tags?: string[],
    metadata?: Record<string, unknown>,
  ) {
    this.#spans.set(runId, tracer().startSpan(`callback run of ${String(metadata?.user_id)}`));
  }
  override handleChainEnd(_outputs: unknown, runId: string) {
    this.#spans.get(runId)?.end();
    this.#spans.delete(runId);
  }
}

function chain() {
  const prompt = ChatPromptTemplate.fromMessages([["human", "{question}"]]);
  const model = new FakeListChatModel({ responses: ["Sunny.", "Rainy.", "Windy."], sleep: 1 });
  const lookup = RunnableLambda.from(async (input: { question: string; userId: string }) =>
    tracer().startActiveSpan(`lookup ${input.userId}`, async (span) => {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
      tracer().startSpan(`db ${input.userId}`).end();
      span.end();
      return { question: input.question };
    }),
  );
  return lookup.pipe(prompt).pipe(model).pipe(new StringOutputParser());
}

describe("LangChain runs", () => {
  it("withSession around invoke: spans inside the chain carry the session; concurrent sessions do not mix", async () => {
    const handler = new ThreadlineCallbackHandler({ namespace: "lc" });
    const users = Array.from({ length: 10 }, (_, index) => `user-${index}`);
    const sessions = await Promise.all(users.map((userId) => handler.sessionManager.resolve(userId, "lc")));
    const runnable = chain();
    await Promise.all(
      sessions.map((session) =>
        withSession(session, () =>
          runnable.invoke({ question: "Weather?", userId: session.userId }, sessionConfigFor(session, handler)),
        ),
      ),
    );
    await handler.flush();
    for (const session of sessions) {
      for (const name of [`lookup ${session.userId}`, `db ${session.userId}`]) {
        expect(sessionOf(tracing.span(name)), name).toEqual(expected(session));
      }
    }
  });

  it("spans opened in awaited callbacks carry their own run's session, for concurrent sessions", async () => {
    const sessions = new SessionManager({ namespace: "lc" });
    const users = Array.from({ length: 10 }, (_, index) => `user-${index}`);
    const resolved = await Promise.all(users.map((userId) => sessions.resolve(userId)));
    const runnable = chain();
    // Awaited, a handler runs in the invoke's async context. In the background (LangChain's
    // default), it runs on a queue shared by all invokes, in whichever context drained the queue
    // last: measured here with awaitHandlers = false, 18 of these 40 spans got another user's
    // session. Hence the README's advice: LANGCHAIN_CALLBACKS_BACKGROUND=false for callback-based
    // instrumentations.
    const handler = new SpanPerRunHandler(true);
    await Promise.all(
      resolved.map((session) =>
        withSession(session, () =>
          runnable.invoke(
            { question: "Weather?", userId: session.userId },
            { callbacks: [handler], metadata: { user_id: session.userId } },
          ),
        ),
      ),
    );
    await awaitAllCallbacks();
    for (const session of resolved) {
      const spans = tracing.spans().filter((span) => span.name === `callback run of ${session.userId}`);
      expect(spans).toHaveLength(4); // the sequence and its three steps with a chain callback
      for (const span of spans) expect(sessionOf(span)).toEqual(expected(session));
    }
  });
});
