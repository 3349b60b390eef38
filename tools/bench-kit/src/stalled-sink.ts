import { createRecordSink, type RecordSink } from "@threadline/session-core";

/** A record sink whose backend takes each batch and never answers, with what it held and dropped. */
export interface StalledSink {
  readonly sink: RecordSink;
  readonly stats: { largestSize: number; dropped: number; pendingDeliveries: number };
  /** Notes the sink's size now (call once per round). */
  observe(): void;
}

/**
 * The stalled backend of the adapters' record benchmarks: it never answers, so the sink fills to
 * `maxBuffer` and from then on drops (and reports) the oldest record per run.
 */
export function stalledRecordSink(maxBuffer: number): StalledSink {
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
