import { SessionError } from "../errors.js";
import type { RunRecord } from "../run-record.js";
import type { SessionManager } from "../session-manager.js";
import { describeValue } from "../validation.js";
import type { ErrorContext, ErrorSink } from "./error-sink.js";
import type { PendingWork } from "./pending-work.js";

/** Where an adapter hands each run's record: the app's `onRecord`, and the session's store with `keepRunRecords`. */
export interface RecordHandoff {
  /** Whether anything takes records: an adapter builds none when false. */
  readonly wanted: boolean;
  /**
   * Hands `record` to `onRecord` and, with `keepRunRecords`, keeps it with its session (started
   * beside the delivery, not after it: a slow `onRecord` must not hold the session's totals
   * back). Resolves when `onRecord` has; the keeping is tracked in `pending`. Never rejects:
   * failures go to the error sink (operations `"record"` and `"keepRecord"`).
   */
  deliver(record: RunRecord, context: ErrorContext): Promise<void>;
}

/** Options for {@link recordHandoff}. */
export interface RecordHandoffOptions {
  manager: SessionManager;
  onRecord: ((record: RunRecord) => unknown) | undefined;
  /** The adapter's `keepRunRecords` option as the app passed it; checked here. */
  keepRunRecords: unknown;
  errors: ErrorSink;
  pending: PendingWork;
  /** The adapter's name, for messages. */
  source: string;
}

/**
 * The one way adapters deliver run records. Checks `keepRunRecords` when the adapter is built:
 * `INVALID_OPTION` for a non-boolean, and for a store without `runs` (it would otherwise fail
 * every run's record, one `onError` at a time).
 */
export function recordHandoff(options: RecordHandoffOptions): RecordHandoff {
  const { manager, onRecord, errors, pending, source } = options;
  const keep = keepRunRecordsOption(options.keepRunRecords, manager, source);

  async function callOnRecord(record: RunRecord, context: ErrorContext): Promise<void> {
    try {
      await onRecord?.(record);
    } catch (error) {
      errors.report(error, context);
    }
  }

  async function keepWithSession(record: RunRecord, context: ErrorContext): Promise<void> {
    try {
      await manager.addRunRecord(record);
    } catch (error) {
      errors.report(error, { ...context, operation: "keepRecord" });
    }
  }

  return {
    wanted: onRecord !== undefined || keep,
    async deliver(record, context) {
      const delivered = onRecord === undefined ? undefined : callOnRecord(record, context);
      if (keep && record.sessionId !== null) pending.track(keepWithSession(record, context));
      await delivered;
    },
  };
}

function keepRunRecordsOption(value: unknown, manager: SessionManager, source: string): boolean {
  if (value === undefined || value === false) return false;
  if (value !== true) {
    throw new SessionError({
      code: "INVALID_OPTION",
      source,
      message: `keepRunRecords must be true or false: whether each run's record is kept with its session, got ${describeValue(value)}.`,
    });
  }
  if (manager.store.runs === undefined) {
    throw new SessionError({
      code: "INVALID_OPTION",
      source,
      message: `keepRunRecords needs a store that keeps run records (store.runs), and the ${manager.store.name} store does not. The memory store (memoryStore()), the Redis store (@threadline/store-redis) and the Durable Object store (@threadline/store-kv) keep them; or leave keepRunRecords out and send records to a record sink with onRecord.`,
    });
  }
  return true;
}
