import fc from "fast-check";
import { expect } from "vitest";
import { SessionManager } from "../session-manager.js";
import type { ItemsChange } from "../store.js";
import { createFakeClock } from "./fake-clock.js";
import type { ModelBasedTestOptions } from "./model.js";
import { uniqueNamespace } from "./unique-namespace.js";

// The reference model of one session's items: values in order, which start a group, and the
// operation ids applied with their change.
interface ModelItem {
  value: string;
  startsGroup: boolean;
}

type ItemOperation =
  | { kind: "append"; size: number; continuesGroup: boolean; operation: number | undefined; wide: boolean }
  | { kind: "replace-suffix"; length: number; matching: boolean; size: number; operation: number | undefined }
  | { kind: "replace-all"; size: number; operation: number | undefined }
  | { kind: "repeat" }
  | { kind: "pop" }
  | { kind: "clear" }
  | { kind: "new-session" };

const maxItems = 5;
const maxItemBytes = 60;
const operationIds = ["op-a", "op-b", "op-c"];

const operationId = fc.option(fc.nat(operationIds.length - 1), { nil: undefined });
const itemOperation: fc.Arbitrary<ItemOperation> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("append" as const),
      size: fc.integer({ min: 1, max: 4 }),
      continuesGroup: fc.boolean(),
      operation: operationId,
      wide: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("replace-suffix" as const),
      length: fc.nat(3),
      matching: fc.boolean(),
      size: fc.nat(3),
      operation: operationId,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("replace-all" as const), size: fc.nat(3), operation: operationId }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: "repeat" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "pop" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "clear" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "new-session" as const }) },
);

const utf8 = new TextEncoder();
const bytesOf = (value: string) => utf8.encode(JSON.stringify(value)).length;

/**
 * Drives random item changes (appends in groups, suffix swaps, compactions, pops, clears,
 * repeated and conflicting operation ids, new sessions) through the manager and a reference
 * model, and checks after every step that the items, the `applied`/`trimmed` results and the
 * error codes agree. For stores whose items support `apply`.
 */
export async function runItemsModelTest(options: ModelBasedTestOptions): Promise<void> {
  let counter = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(itemOperation, { minLength: 1, maxLength: 30 }), async (operations) => {
      const store = await options.createStore();
      try {
        const clock = createFakeClock();
        const sessions = new SessionManager({
          store,
          now: clock.now,
          namespace: uniqueNamespace(),
          cleanupInterval: 0,
          maxItems,
          maxItemBytes,
        });
        let session = await sessions.resolve("user");
        let items: ModelItem[] = [];
        let applied = new Map<string, string>();
        let last: { change: ItemsChange; id: string | undefined } | undefined;
        for (const step of operations) {
          if (step.kind === "new-session") {
            clock.advance(121);
            session = await sessions.resolve("user");
            items = [];
            applied = new Map();
            continue;
          }
          if (step.kind === "pop") {
            const popped = items.pop();
            expect(await sessions.popItem(session)).toBe(popped?.value);
            continue;
          }
          if (step.kind === "clear") {
            await sessions.clearItems(session);
            items = [];
            applied = new Map();
            continue;
          }
          const fresh = (size: number, wide = false) =>
            Array.from({ length: size }, () => `${wide ? "ção-".repeat(3) : ""}${counter++}`);
          let change: ItemsChange;
          let id =
            "operation" in step && step.operation !== undefined ? (operationIds[step.operation] as string) : undefined;
          if (step.kind === "repeat") {
            // A retried request: the same change under the same operation id.
            if (last === undefined) continue;
            ({ change, id } = last);
          } else if (step.kind === "append") {
            change = { type: "append", items: fresh(step.size, step.wide), continuesGroup: step.continuesGroup };
          } else if (step.kind === "replace-all") {
            change = { type: "replace-all", items: fresh(step.size) };
          } else {
            const suffix = items.slice(Math.max(0, items.length - step.length)).map((item) => item.value);
            const expectedSuffix = step.matching || suffix.length === 0 ? suffix : [...suffix.slice(1), "not-there"];
            change = { type: "replace-suffix", expectedSuffix, replacement: fresh(step.size) };
          }
          last = { change, id };
          const expected = applyToModel(items, applied, change, id);
          const actual = await sessions.changeItems(session, change, id === undefined ? {} : { operationId: id }).then(
            (result) => ({ result }),
            (error: { code?: string }) => ({ code: error.code }),
          );
          expect(actual).toEqual(expected.outcome);
          items = expected.items;
          expect(await sessions.getItems(session)).toEqual(items.map((item) => item.value));
        }
      } finally {
        await (options.disposeStore ? options.disposeStore(store) : store.dispose?.());
      }
    }),
    { numRuns: options.numRuns },
  );
}

/** The reference rule: what a change does to the model (a new array), or the error it must fail with. */
function applyToModel(
  items: ModelItem[],
  applied: Map<string, string>,
  change: ItemsChange,
  operationId: string | undefined,
): { items: ModelItem[]; outcome: { result: { applied: boolean; trimmed: number } } | { code: string } } {
  const fingerprint = JSON.stringify(change);
  if (operationId !== undefined && applied.has(operationId)) {
    return applied.get(operationId) === fingerprint
      ? { items, outcome: { result: { applied: false, trimmed: 0 } } }
      : { items, outcome: { code: "OPERATION_CONFLICT" } };
  }
  let kept: ModelItem[];
  let added: string[];
  let joins: boolean;
  if (change.type === "append") {
    kept = items;
    added = change.items as string[];
    joins = change.continuesGroup === true && items.length > 0;
  } else if (change.type === "replace-all") {
    kept = [];
    added = change.items as string[];
    joins = false;
  } else {
    const start = items.length - change.expectedSuffix.length;
    const matches = start >= 0 && change.expectedSuffix.every((value, index) => items[start + index]?.value === value);
    if (!matches) return { items, outcome: { code: "HISTORY_MISMATCH" } };
    kept = items.slice(0, start);
    added = change.replacement as string[];
    joins = start > 0 && items[start]?.startsGroup === false;
  }
  // The group the change writes must fit the bounds by itself.
  let groupCount = added.length;
  let groupBytes = added.reduce((sum, value) => sum + bytesOf(value), 0);
  if (joins) {
    for (let index = kept.length - 1; index >= 0; index--) {
      groupCount++;
      groupBytes += bytesOf((kept[index] as ModelItem).value);
      if ((kept[index] as ModelItem).startsGroup) break;
    }
  }
  if (groupCount > maxItems || groupBytes > maxItemBytes) return { items, outcome: { code: "ITEMS_TOO_LARGE" } };
  let next = [...kept, ...added.map((value, index) => ({ value, startsGroup: index === 0 && !joins }))];
  if (next.length > 0) next[0] = { ...(next[0] as ModelItem), startsGroup: true };
  let trimmed = 0;
  const total = () => next.reduce((sum, item) => sum + bytesOf(item.value), 0);
  while (next.length > maxItems || total() > maxItemBytes) {
    let end = 1;
    while (end < next.length && !(next[end] as ModelItem).startsGroup) end++;
    trimmed += end;
    next = next.slice(end);
  }
  if (operationId !== undefined) applied.set(operationId, fingerprint);
  return { items: next, outcome: { result: { applied: true, trimmed } } };
}
