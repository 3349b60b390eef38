import { SessionError } from "../errors.js";
import type { RunRecord } from "../run-record.js";
import { backoffDelay } from "./backoff.js";
import { isPermanent, RecordDeliveryError, retryAfterOf } from "./delivery-error.js";
import { type RecordSinkOptions, type SinkConfig, sinkConfig, sinkSource } from "./options.js";
import { RecordQueue } from "./record-queue.js";
import { backgroundTimeout, type CancellableWait, cancellableWait, type Timer } from "./timers.js";

/** Hands run records to a backend in batches; built by {@link createRecordSink}. */
export interface RecordSink {
  /**
   * Queues one record. Never throws and never waits: the delivery happens in the background. Pass
   * it as an adapter's `onRecord` (`onRecord: sink.add`). After `shutdown()` the record is reported
   * as dropped (operation `"shutdown"`).
   */
  add(record: RunRecord): void;
  /**
   * Delivers every record added before the call (partial batches too, retries included) and
   * resolves when each is delivered or reported as dropped, or after `flushTimeout`, whichever
   * comes first. Never rejects.
   */
  flush(): Promise<void>;
  /**
   * Stops taking records, flushes (bounded by `flushTimeout`), then reports whatever is still
   * undelivered as dropped and stops its timers. Idempotent; never rejects.
   */
  shutdown(): Promise<void>;
  /** Records held now: waiting, plus the batch being delivered. Never above `maxBuffer`. */
  readonly size: number;
}

/**
 * A record sink: batches run records (`batchSize`, `flushInterval`), delivers one batch at a time
 * in the order records were added, retries transient failures with exponential backoff and full
 * jitter, keeps at most `maxBuffer` records, and reports every record it gives up on to `onError`
 * with the records themselves (`RECORDS_DROPPED`): none is lost silently.
 *
 * @example
 * const sink = createRecordSink({ deliver: httpRecordSink({ url, token }) });
 * const hooks = new ThreadlineRunHooks({ onRecord: sink.add });
 * process.on("SIGTERM", () => void sink.shutdown());
 */
export function createRecordSink(options: RecordSinkOptions): RecordSink {
  const sink = new BatchingSink(sinkConfig(options));
  return {
    add: (record) => sink.add(record),
    flush: () => sink.flush(),
    shutdown: () => sink.shutdown(),
    get size() {
      return sink.size;
    },
  };
}

type DropOperation = "deliver" | "buffer" | "shutdown";

interface Waiter {
  settled: () => boolean;
  resolve: () => void;
}

class BatchingSink {
  readonly #config: SinkConfig;
  readonly #queue = new RecordQueue();
  #inFlight: { records: RunRecord[]; firstSequence: number } | undefined;
  #drain: Promise<void> | undefined;
  #timer: Timer | undefined;
  /** The flush interval elapsed: the next partial batch goes out without waiting for more. */
  #timerDue = false;
  /** Partial batches go out while records below this sequence number wait (a flush asked for them). */
  #flushUpTo = 0;
  readonly #waiters = new Set<Waiter>();
  #stopping = false;
  #stopped = false;
  #shutdown: Promise<void> | undefined;
  #attempt: AbortController | undefined;
  #backoff: CancellableWait | undefined;
  /**
   * Drops of `add` (full buffer, after shutdown) not reported yet: reported together when the
   * current task ends, or as soon as `batchSize` of one kind wait, or by `flush()`/`shutdown()`.
   * Building and reporting one `RECORDS_DROPPED` per run was what a run paid while the backend
   * was stalled; batched, it is paid once per task or per `batchSize` drops.
   */
  readonly #pendingDrops = new Map<DropOperation, RunRecord[]>();
  #dropReport: ReturnType<typeof setTimeout> | undefined;

  constructor(config: SinkConfig) {
    this.#config = config;
  }

  get size(): number {
    return this.#queue.size + (this.#inFlight?.records.length ?? 0);
  }

  add(record: RunRecord): void {
    try {
      if (this.#stopping) {
        this.#dropLater("shutdown", record);
        return;
      }
      if (this.size >= this.#config.maxBuffer) {
        // Keep the newest: the oldest waiting record makes room (or the new one, when every held record is in flight).
        const oldest = this.#queue.shift();
        this.#dropLater("buffer", oldest ?? record);
        this.#settle();
        if (oldest === undefined) return;
      }
      this.#queue.push(record);
      if (this.#queue.size >= this.#config.batchSize || this.#config.flushIntervalMs === 0) this.#startDrain();
      else if (this.#timer === undefined && this.#drain === undefined) this.#armTimer();
    } catch (error) {
      this.#config.errors.report(error, { operation: "add", records: [record] });
    }
  }

  flush(): Promise<void> {
    // Drops of records added before this call are reported before it resolves.
    this.#reportPendingDrops();
    if (this.#shutdown !== undefined) return this.#shutdown;
    const upTo = this.#queue.added;
    this.#flushUpTo = Math.max(this.#flushUpTo, upTo);
    return this.#waitUntil(() => this.#lowestUnsettled() >= upTo);
  }

  shutdown(): Promise<void> {
    this.#shutdown ??= this.#stop();
    return this.#shutdown;
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    this.#flushUpTo = Number.POSITIVE_INFINITY;
    await this.#waitUntil(() => this.size === 0);
    this.#stopped = true;
    this.#clearTimer();
    // Past the flush deadline: stop waiting on the batch in flight (it is reported) and report the rest.
    this.#backoff?.cancel();
    this.#attempt?.abort(new RecordDeliveryError({ message: "the sink shut down", source: sinkSource }));
    const leftover = this.#queue.take(this.#queue.size);
    if (leftover.length > 0) {
      this.#drop("shutdown", leftover, undefined, "still waiting when shutdown's flushTimeout ended");
    }
    await this.#drain;
    this.#reportPendingDrops();
    this.#settle();
    for (const waiter of this.#waiters) waiter.resolve();
  }

  #lowestUnsettled(): number {
    return this.#inFlight?.firstSequence ?? this.#queue.headSequence;
  }

  /** Resolves when `settled()` holds (checked as records settle) or after `flushTimeout`. */
  #waitUntil(settled: () => boolean): Promise<void> {
    if (settled()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      // A plain timer: someone awaits this, so the process must stay up until it resolves.
      const deadline = setTimeout(() => waiter.resolve(), this.#config.flushTimeoutMs);
      const waiter: Waiter = {
        settled,
        resolve: () => {
          clearTimeout(deadline);
          this.#waiters.delete(waiter);
          resolve();
        },
      };
      this.#waiters.add(waiter);
      this.#startDrain();
    });
  }

  /** Resolves the waiters whose records have all settled. */
  #settle(): void {
    for (const waiter of this.#waiters) if (waiter.settled()) waiter.resolve();
  }

  #armTimer(): void {
    this.#timer = backgroundTimeout(() => {
      this.#timer = undefined;
      this.#timerDue = true;
      this.#startDrain();
    }, this.#config.flushIntervalMs);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #startDrain(): void {
    if (this.#drain !== undefined || this.#stopped) return;
    this.#clearTimer();
    // Deferred: add() returns before any delivery work (serialising a batch) runs.
    this.#drain = Promise.resolve()
      .then(() => this.#deliverDue())
      .finally(() => {
        this.#drain = undefined;
        if (this.#queue.size > 0 && !this.#stopped && this.#timer === undefined) {
          if (this.#isDue()) this.#startDrain();
          else this.#armTimer();
        }
        this.#settle();
      });
  }

  #isDue(): boolean {
    const waiting = this.#queue.size;
    return (
      waiting >= this.#config.batchSize ||
      (waiting > 0 &&
        (this.#timerDue || this.#config.flushIntervalMs === 0 || this.#queue.headSequence < this.#flushUpTo))
    );
  }

  /** Delivers batches, one at a time, while one is due. Never rejects. */
  async #deliverDue(): Promise<void> {
    while (!this.#stopped && this.#isDue()) {
      const firstSequence = this.#queue.headSequence;
      const records = this.#queue.take(this.#config.batchSize);
      if (records.length < this.#config.batchSize) this.#timerDue = false;
      this.#inFlight = { records, firstSequence };
      try {
        await this.#deliverBatch(records);
      } catch (error) {
        // #deliverBatch reports its own failures; this is a bug, and its records must not vanish.
        this.#drop("deliver", records, error, "an internal error of the sink");
      } finally {
        this.#inFlight = undefined;
      }
      this.#settle();
    }
  }

  /** Delivers one batch, retrying transient failures; reports the batch if it gives up. */
  async #deliverBatch(records: RunRecord[]): Promise<void> {
    const { maxAttempts } = this.#config;
    const batchId = crypto.randomUUID();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#deliverOnce(records, batchId, attempt);
        return;
      } catch (error) {
        const batch = `batch ${batchId}`;
        if (this.#stopped) {
          this.#drop("shutdown", records, error, `${batch} was in flight when shutdown's flushTimeout ended`);
          return;
        }
        if (isPermanent(error)) {
          this.#drop("deliver", records, error, `${batch} failed permanently (not retried)`);
          return;
        }
        if (attempt >= maxAttempts) {
          this.#drop("deliver", records, error, `${batch} failed ${attempt} times (maxAttempts)`);
          return;
        }
        const delay = backoffDelay(attempt, this.#config, retryAfterOf(error));
        this.#backoff = cancellableWait(delay * 1000, this.#waiters.size > 0);
        await this.#backoff.done;
        this.#backoff = undefined;
        if (this.#stopped) {
          this.#drop(
            "shutdown",
            records,
            error,
            `batch ${batchId} was waiting to be retried when shutdown's flushTimeout ended`,
          );
          return;
        }
      }
    }
  }

  /** One attempt, abandoned after `deliveryTimeout` or at shutdown (its signal is aborted). */
  async #deliverOnce(records: RunRecord[], batchId: string, attempt: number): Promise<void> {
    const controller = new AbortController();
    this.#attempt = controller;
    const seconds = this.#config.deliveryTimeoutMs / 1000;
    const timer = backgroundTimeout(
      () =>
        controller.abort(
          new RecordDeliveryError({
            message: `deliver did not settle within ${seconds} s (deliveryTimeout)`,
            source: sinkSource,
          }),
        ),
      this.#config.deliveryTimeoutMs,
    );
    const abandoned = new Promise<never>((_, reject) => {
      controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
    });
    const delivery = (async () => this.#config.deliver(records, { batchId, attempt, signal: controller.signal }))();
    try {
      await Promise.race([delivery, abandoned]);
    } finally {
      clearTimeout(timer);
      this.#attempt = undefined;
    }
  }

  #drop(operation: DropOperation, records: RunRecord[], cause: unknown, why: string): void {
    const count = records.length === 1 ? "1 record" : `${records.length} records`;
    const error = new SessionError({
      code: "RECORDS_DROPPED",
      source: sinkSource,
      message: `${count} dropped: ${why}. They are in the error context's records.`,
      cause,
    });
    this.#config.errors.report(error, { operation, records });
  }

  /**
   * Reports drops of `add` together: once the current task ends (a timer, not a microtask: runs
   * awaiting only promises keep one task going, and would each get their own report), or at once
   * when `batchSize` of one kind wait, so at most `batchSize` dropped records per kind are held
   * beyond `maxBuffer`. The timer is not `unref`'d: a process must not exit with drops unreported.
   */
  #dropLater(operation: DropOperation, record: RunRecord): void {
    const pending = this.#pendingDrops.get(operation);
    if (pending === undefined) this.#pendingDrops.set(operation, [record]);
    else pending.push(record);
    if ((pending?.length ?? 1) >= this.#config.batchSize) this.#reportDrops(operation);
    else this.#dropReport ??= setTimeout(() => this.#reportPendingDrops(), 0);
  }

  #reportPendingDrops(): void {
    if (this.#dropReport !== undefined) clearTimeout(this.#dropReport);
    this.#dropReport = undefined;
    for (const operation of [...this.#pendingDrops.keys()]) this.#reportDrops(operation);
  }

  #reportDrops(operation: DropOperation): void {
    const records = this.#pendingDrops.get(operation);
    if (records === undefined) return;
    this.#pendingDrops.delete(operation);
    const why =
      operation === "buffer"
        ? `the buffer was full (maxBuffer ${this.#config.maxBuffer}); the oldest waiting records made room`
        : "added after shutdown()";
    this.#drop(operation, records, undefined, why);
  }
}
