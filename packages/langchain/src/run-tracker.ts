import type { RunMessage, RunUsage, ToolCallRecord } from "@threadline/session-core";
import type { RunSession } from "./run-sessions.js";

/** What the handler keeps about one root run, from its start event to its end event. */
export interface RootRun {
  runId: string;
  name: string | undefined;
  /** `undefined` when the run named an invalid user: it gets no session and no record. */
  userId: string | undefined;
  namespace: string;
  input: unknown;
  /** `stream()` starts a run before its input is known; the end event carries it. */
  defersInput: boolean;
  tags: string[];
  metadata: Record<string, unknown>;
  startedAt: number;
  /** The run's session once resolved; `null` when there is none (the store failed). */
  session: Promise<RunSession | null>;
  /** Child runs that have not ended, so their entries go with the root. */
  openChildren: Set<string>;
  /** Tool calls by the tool run's id, in the order they started. */
  toolCalls: Map<string, ToolCallRecord>;
  usage: RunUsage | undefined;
  /** Model names in the order of first use, at most `maxMessagesPerRun` of them. */
  models: string[];
  /** The conversation as the run's models saw it and answered, the newest `maxMessagesPerRun`. */
  messages: RunMessage[];
  /** How many messages the run's previous model call was given; a later call adds only what follows its answer. */
  modelInputLength: number | undefined;
}

/** Open child runs followed per root; a root whose children never end cannot grow past it. */
const MAX_OPEN_CHILDREN = 1_000;

/**
 * The runs in flight, keyed by run id (never by user or async context, so concurrent runs and
 * LangChain's background callbacks cannot mix). Bounded: past `maxRuns` roots the oldest is
 * dropped and handed to `onDrop`; its late children are ignored rather than taken for new roots.
 */
export class RunTracker {
  readonly #roots = new Map<string, RootRun>();
  readonly #rootOfChild = new Map<string, RootRun>();
  /** Ids of dropped runs and their children, as many as `maxRuns`, oldest forgotten first. */
  readonly #dropped = new Set<string>();
  readonly #maxRuns: number;
  readonly #onDrop: (run: RootRun) => void;

  constructor(maxRuns: number, onDrop: (run: RootRun) => void) {
    this.#maxRuns = maxRuns;
    this.#onDrop = onDrop;
  }

  /** Root runs in flight. */
  get size(): number {
    return this.#roots.size;
  }

  /** The root run `runId` belongs to (itself when it is a root). */
  rootOf(runId: string): RootRun | undefined {
    return this.#roots.get(runId) ?? this.#rootOfChild.get(runId);
  }

  /**
   * Follows a run below a known one and returns its root; `"ignored"` below a dropped run;
   * `undefined` when the parent is unknown, which makes the run a root.
   */
  addChild(runId: string, parentRunId: string | undefined): RootRun | "ignored" | undefined {
    if (parentRunId === undefined) return undefined;
    if (this.#dropped.has(parentRunId)) return this.#ignore(runId);
    const root = this.rootOf(parentRunId);
    if (root === undefined) return undefined;
    if (root.openChildren.size >= MAX_OPEN_CHILDREN) return this.#ignore(runId);
    root.openChildren.add(runId);
    this.#rootOfChild.set(runId, root);
    return root;
  }

  /** Follows a root run, dropping the oldest when there are more than `maxRuns`. */
  addRoot(run: RootRun): void {
    this.#roots.set(run.runId, run);
    if (this.#roots.size <= this.#maxRuns) return;
    const oldest = this.#roots.values().next().value as RootRun;
    this.#forget(oldest);
    this.#ignore(oldest.runId);
    for (const child of oldest.openChildren) this.#ignore(child);
    this.#onDrop(oldest);
  }

  /** Stops following `runId`; returns its state when it was a root. */
  end(runId: string): RootRun | undefined {
    const root = this.#roots.get(runId);
    if (root !== undefined) {
      this.#forget(root);
      return root;
    }
    this.#rootOfChild.get(runId)?.openChildren.delete(runId);
    this.#rootOfChild.delete(runId);
    this.#dropped.delete(runId);
    return undefined;
  }

  #forget(root: RootRun): void {
    this.#roots.delete(root.runId);
    for (const child of root.openChildren) this.#rootOfChild.delete(child);
  }

  #ignore(runId: string): "ignored" {
    this.#dropped.add(runId);
    if (this.#dropped.size > this.#maxRuns) this.#dropped.delete(this.#dropped.values().next().value as string);
    return "ignored";
  }
}
