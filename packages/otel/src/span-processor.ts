import type { Attributes, Context, Span } from "@opentelemetry/api";
import { ATTR_SESSION_ID, aliasAttributes, type VendorAlias } from "./attributes.js";
import { checkAliases, entryOf, type SessionEntry } from "./context.js";

/** Options of {@link threadlineSpanProcessor}. */
export interface ThreadlineSpanProcessorOptions {
  /**
   * Also write the session under the names these backends read (`"langfuse"`: `langfuse.session.id`,
   * `langfuse.user.id`; `"langsmith"`: `langsmith.metadata.session_id`, `langsmith.metadata.user_id`).
   * Default none: `session.id` and `user.id` are read by Langfuse and Phoenix as they are.
   */
  aliases?: readonly VendorAlias[];
}

/**
 * The part of the SDK's `SpanProcessor` this processor implements, typed against
 * `@opentelemetry/api` alone so the package needs no SDK at run time: it fits
 * `new BasicTracerProvider({ spanProcessors: [...] })` and `NodeSDK({ spanProcessors })`.
 */
export interface ThreadlineSpanProcessor {
  onStart(span: Span, parentContext: Context): void;
  onEnding(span: Span): void;
  onEnd(span: unknown): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * A span processor that copies the session in a span's parent context (put there by
 * {@link withSession}, {@link contextWithSession} or the adapters' helpers) onto the span when it
 * starts: `session.id`, `user.id`, `gen_ai.conversation.id`, `threadline.namespace`,
 * `threadline.session_id`, and the vendor aliases asked for. A span started with a `session.id`
 * of its own keeps its attributes. Every span of a session-scoped run
 * or request gets them, not only its root, so backends that group by session (and filter child
 * spans by it) see the whole conversation. Spans outside a session are left alone.
 *
 * Like the contrib `BaggageSpanProcessor`, it reads the context the span was started in (the
 * `parentContext` argument), never the ambient one. It exports nothing: put it before your
 * exporting processor (the SDK calls `onStart` in order, so the exporter's processor already
 * sees the attributes).
 *
 * @example
 * const provider = new NodeTracerProvider({
 *   spanProcessors: [threadlineSpanProcessor(), new BatchSpanProcessor(new OTLPTraceExporter())],
 * });
 */
export function threadlineSpanProcessor(options: ThreadlineSpanProcessorOptions = {}): ThreadlineSpanProcessor {
  const aliases = checkAliases(options.aliases);
  // Per session entry (one per withSession call), the aliases computed once, not per span.
  const withAliases = new WeakMap<SessionEntry, Attributes>();
  // Spans started while their session was still pending (withPendingSession), until they end.
  const pending = new WeakMap<Span, SessionEntry>();
  const stamp = (span: Span, entry: SessionEntry, attributes: Attributes): void => {
    span.setAttributes(attributes);
    if (aliases.length > 0) span.setAttributes(aliasesOf(entry, attributes));
  };
  const aliasesOf = (entry: SessionEntry, base: Attributes): Attributes => {
    let attributes = withAliases.get(entry);
    if (attributes === undefined) {
      attributes = aliasAttributes(base, aliases);
      withAliases.set(entry, attributes);
    }
    return attributes;
  };
  return {
    onStart(span, parentContext) {
      const entry = entryOf(parentContext);
      if (entry === undefined) return;
      // A span started with its own session.id (an instrumentation that read it from the run's
      // metadata) keeps it: the span knows better than a context that may have leaked in.
      if ((span as { attributes?: Attributes }).attributes?.[ATTR_SESSION_ID] !== undefined) return;
      if (entry.attributes !== undefined) stamp(span, entry, entry.attributes);
      else pending.set(span, entry);
    },
    onEnding(span) {
      const entry = pending.get(span);
      if (entry === undefined) return;
      pending.delete(span);
      if (entry.attributes !== undefined) stamp(span, entry, entry.attributes);
    },
    onEnd() {},
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}
