import { Agent, MemorySession, Runner, setTracingDisabled, Usage } from "@openai/agents";
import { assistantMessage } from "@openai/agents/testing";
import { SessionHooks, SessionMemory } from "@threadline/openai-agents";
import { SessionManager } from "@threadline/session-core";
import { createFakeClock } from "@threadline/session-core/testing";
setTracingDisabled(true);
const model = { async getResponse() { return { output: [assistantMessage("Happy to help.")], usage: new Usage({ requests: 1, inputTokens: 1, outputTokens: 1, totalTokens: 2 }) }; }, async *getStreamedResponse() { throw new Error(); } };
const agent = new Agent({ name: "a", instructions: "x", model });
const clock = createFakeClock();
const plain = new Runner();
const traced = new Runner();
const h1 = new SessionHooks({ now: clock.now }).attach(traced);
const manager = new SessionManager({ now: clock.now });
const USERS = Number(process.argv[2] ?? 1000);
const sdk = new Map<number, MemorySession>();
const oursPlain = new Map<number, SessionMemory>();
const variants: [string, (u: number) => Promise<unknown>][] = [
  ["sdk-memory", async (u) => { let s = sdk.get(u); if (!s) { s = new MemorySession(); sdk.set(u, s); } await plain.run(agent, "Hello", { session: s }); }],
  ["ours via runner.run", async (u) => { let s = oursPlain.get(u); if (!s) { s = new SessionMemory({ sessionManager: manager, session: await manager.resolve(`p${u}`) }); oursPlain.set(u, s); } await plain.run(agent, "Hello", { session: s }); }],
  ["hooks.run memory", async (u) => { await h1.run(agent, "Hello", { userId: `h${u}` }); }],
];
const best = new Map<string, number>();
const counters = new Map<string, number>();
for (let round = 0; round < 24; round++) {
  for (const [name, run] of variants) {
    const started = performance.now();
    let c = counters.get(name) ?? 0;
    for (let i = 0; i < 100; i++) await run(c++ % USERS);
    counters.set(name, c);
    const us = ((performance.now() - started) * 1000) / 100;
    if (round > 2) best.set(name, Math.min(best.get(name) ?? Infinity, us));
  }
}
console.log(USERS, [...best].map(([k, v]) => `${k} ${v.toFixed(1)}`).join("  |  "));
