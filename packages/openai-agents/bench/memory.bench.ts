// What the conversation memory costs per turn as a session grows:
// `pnpm --filter @threadline/openai-agents bench:memory`.
// A turn is what the runner does with a memory: read the last N items of the history
// (getItems(N)), then append the turn's items (one addItems of a user message and an answer).
// Sessions hold 10, 1,000 and 10,000 items; after each timed turn the two items are popped
// (untimed), so the size stays put. threadline's SessionMemory on the memory store (through the
// SessionManager, as apps use it) and the SDK's in-process MemorySession run in the same process,
// interleaved round by round; each cell is the median over rounds with the min–max range.
// Imports the BUILT packages (tsx's keepNames would distort the library's closures): build first.

import { type AgentInputItem, MemorySession, type Session, setTracingDisabled } from "@openai/agents";
import { fixed, interleaved, median, perRound, printTable, spread } from "@threadline/bench-kit";
import { SessionMemory } from "@threadline/openai-agents";
import { SessionManager } from "@threadline/session-core";

const SIZES = [10, 1_000, 10_000] as const;
/** Items the runner reads back each turn. */
const LAST_N = 20;
const TURNS_PER_ROUND = Number(process.env.BENCH_TURNS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);

const turn = (index: number): AgentInputItem[] => [
  { type: "message", role: "user", content: `Where is order #${index}?` },
  {
    type: "message",
    role: "assistant",
    status: "completed",
    content: [{ type: "output_text", text: `Order #${index} ships tomorrow.` }],
  },
];

interface PerTurn {
  /** µs per turn: the read and the append. */
  total: number;
  add: number;
  get: number;
}

/** Times TURNS_PER_ROUND turns on `memory`, popping each turn's items afterwards (untimed). */
async function turns(memory: Session): Promise<PerTurn> {
  let add = 0;
  let get = 0;
  for (let index = 0; index < TURNS_PER_ROUND; index++) {
    const items = turn(index);
    const started = performance.now();
    await memory.getItems(LAST_N);
    const read = performance.now();
    await memory.addItems(items);
    const done = performance.now();
    get += read - started;
    add += done - read;
    await memory.popItem();
    await memory.popItem();
  }
  const micros = (ms: number) => (ms * 1000) / TURNS_PER_ROUND;
  return { total: micros(add + get), add: micros(add), get: micros(get) };
}

async function threadlineMemory(size: number): Promise<Session> {
  // Bounds above the largest size: the benchmark measures growth, not trimming (the default
  // maxItems of 2,000 would keep a session from ever reaching 10,000 items).
  const sessionManager = new SessionManager({ maxItems: 20_000, maxItemBytes: Number.POSITIVE_INFINITY });
  const session = await sessionManager.resolve(`user-${size}`);
  const memory = new SessionMemory({ sessionManager, session });
  for (let index = 0; index < size / 2; index++) await memory.addItems(turn(index));
  return memory;
}

function sdkMemory(size: number): Session {
  const initialItems = Array.from({ length: size / 2 }, (_, index) => turn(index)).flat();
  return new MemorySession({ initialItems });
}

async function main(): Promise<void> {
  setTracingDisabled(true);
  const workloads: Record<string, () => Promise<PerTurn>> = {};
  for (const size of SIZES) {
    const ours = await threadlineMemory(size);
    const sdks = sdkMemory(size);
    if ((await ours.getItems()).length !== size || (await sdks.getItems()).length !== size) {
      throw new Error(`prefill failed at ${size}`);
    }
    // Warm-up (JIT), not kept.
    await turns(ours);
    await turns(sdks);
    workloads[`threadline ${size}`] = () => turns(ours);
    workloads[`sdk ${size}`] = () => turns(sdks);
  }
  const results = await interleaved(ROUNDS, workloads);

  console.log(
    `\n@threadline/openai-agents — memory cost per turn (getItems(${LAST_N}) + addItems of 2 items) by session size; µs, median (min–max) over ${ROUNDS} interleaved rounds × ${TURNS_PER_ROUND} turns\n`,
  );
  const rows: string[][] = [];
  for (const size of SIZES) {
    const ours = results[`threadline ${size}`] ?? [];
    const sdks = results[`sdk ${size}`] ?? [];
    const cells = (samples: PerTurn[]) => [
      spread(
        samples.map((sample) => sample.total),
        fixed(1),
      ),
      spread(
        samples.map((sample) => sample.add),
        fixed(1),
      ),
      spread(
        samples.map((sample) => sample.get),
        fixed(1),
      ),
    ];
    rows.push([size.toLocaleString("en-US"), "threadline SessionMemory (memory store)", ...cells(ours), ""]);
    const ratio = perRound(
      sdks.map((sample) => sample.total),
      ours.map((sample) => sample.total),
    );
    rows.push([size.toLocaleString("en-US"), "SDK MemorySession", ...cells(sdks), `${median(ratio).toFixed(2)}×`]);
  }
  printTable(["items", "memory", "µs per turn", "addItems", `getItems(${LAST_N})`, "SDK / threadline"], rows);
  console.log(`\nNode ${process.version}, ${process.platform}/${process.arch}`);
}

await main();
