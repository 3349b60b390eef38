import { context, type Tracer } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { threadlineSpanProcessor } from "@threadline/otel";

/** Options for {@link createTracing}. */
export interface TracingOptions {
  /** The OTLP/HTTP traces endpoint, e.g. `http://localhost:4318/v1/traces`. */
  url: string;
}

/** The app's tracing: a tracer for its spans, and `shutdown()` to send what is still batched. */
export interface Tracing {
  tracer: Tracer;
  /** Exports the spans still batched, then stops. Never rejects (a failed export is logged by the SDK). */
  shutdown(): Promise<void>;
}

/**
 * Spans over OTLP/HTTP (JSON), each one carrying the session it ran in: `threadlineSpanProcessor`
 * comes **before** the exporting processor, so the exporter sees `session.id`, `user.id` and
 * `gen_ai.conversation.id` on every span (the SDK calls processors in order). Registers the
 * AsyncLocalStorage context manager, without which no session (and no parent span) follows an
 * `await`; a manager registered earlier (the Node SDK's) is kept.
 */
export function createTracing(options: TracingOptions): Tracing {
  const provider = new BasicTracerProvider({
    spanProcessors: [threadlineSpanProcessor(), new BatchSpanProcessor(new OTLPTraceExporter({ url: options.url }))],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return {
    tracer: provider.getTracer("@example/whatsapp-agent"),
    shutdown: () =>
      provider.shutdown().catch((error: unknown) => console.error("[whatsapp-agent] span export failed", error)),
  };
}
