// Where the demo's runs are reported: records through a record sink over HTTP, spans through the
// OpenTelemetry SDK over OTLP/HTTP, both grouped by session. An app does the same with its
// backends' URLs.
import { context, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { RunInSession } from "@threadline/openai-agents";
import { threadlineSpanProcessor, withSession } from "@threadline/otel";
import {
  createRecordSink,
  type ErrorHandler,
  httpRecordSink,
  type RecordSink,
  type RecordSinkOptions,
} from "@threadline/session-core";

export interface TelemetryOptions {
  /** Where run records go (`httpRecordSink`). */
  recordsUrl: string;
  /** Sent as `Authorization: Bearer <token>` with every batch of records. */
  recordsToken?: string;
  /** Where spans go (OTLP/HTTP JSON, `…/v1/traces`). */
  tracesUrl: string;
  /** Receives every record the sink gave up on (with the records) and every other reported failure. */
  onError?: ErrorHandler;
  /** Sink settings (batch size, retries); the defaults are the sink's. */
  sink?: Omit<RecordSinkOptions, "deliver" | "onError">;
}

export interface Telemetry {
  /** The record sink: pass `sink.add` as the hooks' `onRecord`. */
  sink: RecordSink;
  /** The tracer the demo's tools and models make spans with. */
  tracer: Tracer;
  /**
   * The hooks' `runInSession`: each run in its session's OpenTelemetry context (so every span of
   * the run gets `session.id`, `user.id`, …) under one `agent run` span.
   */
  runInSession: RunInSession;
  /** Sends what is buffered (records and spans); never rejects. */
  flush(): Promise<void>;
  /** Flushes, then stops the sink and the tracer provider. */
  shutdown(): Promise<void>;
}

/**
 * Records through `createRecordSink` + `httpRecordSink`; spans through a tracer provider with
 * `threadlineSpanProcessor()` registered before the exporting processor (so the exporter sees the
 * session attributes), and the async-hooks context manager the Node SDK would register.
 */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  const sink = createRecordSink({
    ...options.sink,
    deliver: httpRecordSink({ url: options.recordsUrl, token: options.recordsToken }),
    onError: options.onError,
  });
  const provider = new BasicTracerProvider({
    spanProcessors: [
      threadlineSpanProcessor(),
      new BatchSpanProcessor(new OTLPTraceExporter({ url: options.tracesUrl })),
    ],
  });
  // Without a context manager nothing propagates (the API's default drops every context). Keep
  // the app's own if it registered one.
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const ownsContext = context.setGlobalContextManager(contextManager);
  if (!ownsContext) contextManager.disable();

  const tracer = provider.getTracer("openai-agents-demo");
  const runInSession: RunInSession = (session, run) =>
    withSession(session, () =>
      tracer.startActiveSpan("agent run", async (span) => {
        try {
          return await run();
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
          throw error;
        } finally {
          span.end();
        }
      }),
    );

  const flush = async () => {
    await sink.flush();
    await provider.forceFlush().catch(() => {}); // the exporter reports its own failures through diag
  };
  return {
    sink,
    tracer,
    runInSession,
    flush,
    async shutdown() {
      await sink.shutdown();
      await provider.shutdown().catch(() => {});
      if (ownsContext) context.disable();
    },
  };
}
