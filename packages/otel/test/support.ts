// One tracer provider per test file, with the threadline processor before an in-memory exporter,
// and the async-hooks context manager the Node SDK would register (without one, the API's
// no-op context manager drops every context and nothing propagates).
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeAll } from "vitest";
import { type ThreadlineSpanProcessorOptions, threadlineSpanProcessor } from "../src/index.js";

export interface Tracing {
  exporter: InMemorySpanExporter;
  provider: BasicTracerProvider;
  /** Finished spans by name. */
  spans(): ReadableSpan[];
  span(name: string): ReadableSpan;
}

/** Registers a global provider and context manager for the file; clears the spans after each test. */
export function useTracing(options: ThreadlineSpanProcessorOptions = {}, extra: SpanProcessor[] = []): Tracing {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [threadlineSpanProcessor(options), new SimpleSpanProcessor(exporter), ...extra],
  });
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(provider);
  });
  afterEach(() => exporter.reset());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });
  return {
    exporter,
    provider,
    spans: () => exporter.getFinishedSpans(),
    span(name) {
      const found = exporter.getFinishedSpans().filter((span) => span.name === name);
      if (found.length !== 1) throw new Error(`expected one span "${name}", found ${found.length}`);
      return found[0] as ReadableSpan;
    },
  };
}

/** The session attributes of a span, for equality checks (undefined when absent). */
export function sessionOf(span: ReadableSpan): Record<string, unknown> {
  const pick = (key: string) => span.attributes[key];
  return {
    "session.id": pick("session.id"),
    "user.id": pick("user.id"),
    "gen_ai.conversation.id": pick("gen_ai.conversation.id"),
    "threadline.namespace": pick("threadline.namespace"),
    "threadline.session_id": pick("threadline.session_id"),
  };
}

export const NO_SESSION = {
  "session.id": undefined,
  "user.id": undefined,
  "gen_ai.conversation.id": undefined,
  "threadline.namespace": undefined,
  "threadline.session_id": undefined,
};

/** The attributes a span of `session` must carry. */
export function expected(session: { namespace: string; userId: string; sessionId: string }): Record<string, unknown> {
  const key = `${encodeURIComponent(session.namespace)}/${encodeURIComponent(session.userId)}/${encodeURIComponent(session.sessionId)}`;
  return {
    "session.id": key,
    "user.id": session.userId,
    "gen_ai.conversation.id": key,
    "threadline.namespace": session.namespace,
    "threadline.session_id": session.sessionId,
  };
}
