/** The options the stalled sink passes to `createRecordSink` (typed here: bench-kit depends on no package). */
export interface StalledSinkOptions {
  deliver: () => Promise<void>;
  maxBuffer: number;
  deliveryTimeout: number;
  flushTimeout: number;
  onError: (error: Error, context: { records?: readonly unknown[] }) => void;
}

/** A record sink whose backend takes each batch and never answers, with what it held and dropped. */
export interface StalledSink<Sink> {
  readonly sink: Sink;
  readonly stats: { largestSize: number; dropped: number; pendingDeliveries: number };
  /** Notes the sink's size now (call once per round). */
  observe(): void;
}

/**
 * The stalled backend of the adapters' record benchmarks: it never answers, so the sink fills to
 * `maxBuffer` and from then on drops (and reports) the oldest record per run. Pass
 * `createRecordSink` from `@threadline/session-core`.
 */
export function stalledRecordSink<Sink extends { readonly size: number }>(
  createRecordSink: (options: StalledSinkOptions) => Sink,
  maxBuffer: number,
): StalledSink<Sink> {
  const stats = { largestSize: 0, dropped: 0, pendingDeliveries: 0 };
  const sink = createRecordSink({
    deliver: () => {
      stats.pendingDeliveries++;
      return new Promise<void>(() => {}); // the backend took the request and never answers
    },
    maxBuffer,
    deliveryTimeout: 3_600, // it stays stalled for the whole benchmark
    flushTimeout: 0.1,
    onError: (_error, { records = [] }) => {
      stats.dropped += records.length;
    },
  });
  return {
    sink,
    stats,
    observe() {
      stats.largestSize = Math.max(stats.largestSize, sink.size);
    },
  };
}
