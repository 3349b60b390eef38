// The origin SDK's OpenAI Agents examples (session_management_basic, _multi_user,
// _custom_timeout, openai_agents_multi_agent), replayed on threadline. The clock is simulated,
// so "10 minutes later" takes no time; the agents are scripted unless OPENAI_API_KEY is set.
import { type AgentInputItem, Runner } from "@openai/agents";
import { SessionHooks } from "@threadline/openai-agents";
import { globalSessionId, type RunRecord } from "@threadline/session-core";
import { createFakeClock, type FakeClock } from "@threadline/session-core/fake-clock";
import { createAgents, type DemoAgents, type ModelMode } from "./agents.js";
import type { Telemetry } from "./telemetry.js";

/** Where scenario 8 reports runs, and how to tell what arrived there. */
export interface DemoReporting {
  telemetry: Telemetry;
  /** Lines saying where the records and spans went and what arrived (after a flush). */
  summary(): string[];
}

type Print = (line: string) => void;

/** `12:00:30` for a simulated time. */
function at(clock: FakeClock): string {
  return new Date(clock.now()).toISOString().slice(11, 19);
}

function oneLine(text: unknown): string {
  const flat = String(text ?? "").replace(/\s+/g, " ");
  return flat.length > 90 ? `${flat.slice(0, 87)}...` : flat;
}

/** Runs every scenario in order and prints what happens; scenario 8 only with `reporting`. */
export async function runDemo(print: Print, mode: ModelMode, reporting?: DemoReporting): Promise<void> {
  print("threadline + OpenAI Agents: the origin's agent examples, on a simulated clock");
  print(
    mode === "offline" ? "(scripted models: set OPENAI_API_KEY to use a real OpenAI model)" : "(real OpenAI model)",
  );
  await basicSessions(print, createAgents(mode));
  await interleavedUsers(print, createAgents(mode));
  await concurrentUsers(print, createAgents(mode));
  await customTimeouts(print, createAgents(mode));
  await handoffInOneSession(print, createAgents(mode));
  await memoryWithinASession(print, createAgents(mode));
  await carryOverSummary(print, createAgents(mode));
  if (reporting !== undefined) {
    await recordsAndTraces(print, createAgents(mode, { tracer: reporting.telemetry.tracer }), reporting);
  }
  print("");
  print("Two lines per app: new SessionHooks({ namespace }).attach(runner), then hooks.run(agent, input, { userId }).");
}

/** session_management_basic.py: automatic session, timeout, continuous conversation. */
async function basicSessions(print: Print, agents: DemoAgents): Promise<void> {
  const clock = createFakeClock();
  const runner = new Runner();
  const hooks = new SessionHooks({ namespace: "demo", inactivityTimeout: 120, now: clock.now }).attach(runner);
  print("");
  print("1. Basic sessions (namespace demo, timeout 120 s)");

  // No user id at all: the run joins the shared "anonymous" session (with a one-time warning).
  const anonymous = await runner.run(agents.support, "Hello");
  print(`   ${at(clock)}  (no user id)                   -> ${(await hooks.sessionOf(anonymous))?.sessionId}`);

  hooks.setUserId("user-123");
  const first = await runner.run(agents.support, "Hello");
  print(`   ${at(clock)}  user-123: Hello                  -> ${(await hooks.sessionOf(first))?.sessionId}`);
  clock.advance(10);
  const second = await runner.run(agents.support, "What's the weather?");
  print(
    `   ${at(clock)}  user-123: What's the weather?    -> ${(await hooks.sessionOf(second))?.sessionId} (same session)`,
  );
  clock.advance(20);
  const third = await runner.run(agents.support, "Thanks!");
  print(
    `   ${at(clock)}  user-123: Thanks!                -> ${(await hooks.sessionOf(third))?.sessionId} (same session)`,
  );
  clock.advance(150);
  const later = await runner.run(agents.support, "Hello again");
  const session = await hooks.sessionOf(later);
  print(
    `   ${at(clock)}  user-123: Hello again            -> ${session?.sessionId} (${session?.isNew ? "new session: quiet 150 s > 120 s" : "same session"})`,
  );
  await hooks.sessionManager.closeSession("user-123");
  const fresh = await runner.run(agents.support, "New topic");
  print(
    `   ${at(clock)}  after hooks.sessionManager.closeSession("user-123") -> ${(await hooks.sessionOf(fresh))?.sessionId}`,
  );
}

/** session_management_multi_user.py: a WhatsApp bot, interleaved users, session info per message. */
async function interleavedUsers(print: Print, agents: DemoAgents): Promise<void> {
  const clock = createFakeClock();
  const runner = new Runner();
  const hooks = new SessionHooks({ namespace: "customer-support", now: clock.now }).attach(runner);
  print("");
  print("2. Many users, interleaved (a WhatsApp bot; one Runner, the user id in each run's context)");
  const messages: [number, string, string][] = [
    [0, "whatsapp-5511999999999", "Hi, I need help"],
    [2, "whatsapp-5511888888888", "Hello there"],
    [5, "whatsapp-5511999999999", "What's the status of order #123?"],
    [7, "whatsapp-5511777777777", "I have a question"],
    [10, "whatsapp-5511888888888", "Can you help me with a refund?"],
  ];
  const start = clock.now();
  for (const [second, userId, text] of messages) {
    clock.set(start + second * 1000);
    const result = await runner.run(agents.support, text, { context: { userId } });
    const info = await hooks.sessionManager.getSessionInfo(userId);
    print(
      `   T=${String(second).padStart(2)}s ${userId}  ${info?.sessionId}  (duration ${info?.duration} s, inactive ${info?.inactiveFor} s)`,
    );
    print(`         "${text}" -> ${oneLine(result.finalOutput)}`);
  }
  const sessions = new Set<string>();
  for (const [, userId] of messages) sessions.add((await hooks.sessionManager.getSessionInfo(userId))?.sessionId ?? "");
  print(`   Result: 3 users, ${sessions.size} separate sessions, ${messages.length} messages`);
}

/** The same bot under load: runs for different users at the same moment on one Runner. */
async function concurrentUsers(print: Print, agents: DemoAgents): Promise<void> {
  const clock = createFakeClock();
  const records: RunRecord[] = [];
  const runner = new Runner();
  const hooks = new SessionHooks({
    namespace: "customer-support",
    now: clock.now,
    onRecord: (record) => {
      records.push(record);
    },
  }).attach(runner);
  print("");
  print("3. Many users at the same moment (12 concurrent runs, 4 users, one Runner)");
  const users = ["ana", "bruno", "carla", "davi"];
  const runs = Array.from({ length: 12 }, (_, index) => {
    const userId = users[index % users.length] as string;
    return { userId, text: `${userId} asks about order #${100 + index}` };
  });
  await Promise.all(runs.map(({ userId, text }) => runner.run(agents.support, text, { context: { userId } })));
  await hooks.flush();
  const mixed = records.filter((record) => !String(record.input).startsWith(record.userId)).length;
  const sessionIds = new Set(records.map((record) => record.sessionId));
  print(`   ${records.length} runs -> ${sessionIds.size} sessions, ${mixed} records in another user's session`);
  for (const userId of users) {
    const mine = records.filter((record) => record.userId === userId);
    print(
      `   ${userId.padEnd(6)} ${mine.length} runs in ${[...new Set(mine.map((record) => record.sessionId))].join(", ")}`,
    );
  }
}

/** session_management_custom_timeout.py: one timeout per use case. */
async function customTimeouts(print: Print, agents: DemoAgents): Promise<void> {
  const clock = createFakeClock();
  print("");
  print("4. Custom timeouts per use case");
  const cases = [
    { label: "quick support (60 s)  ", namespace: "quick-support", timeout: 60, user: "user-quick", gaps: [30, 90] },
    { label: "live chat (30 s)      ", namespace: "live-chat", timeout: 30, user: "chat-user-123", gaps: [5, 40] },
    {
      label: "data analysis (600 s) ",
      namespace: "data-analysis",
      timeout: 600,
      user: "analyst-001",
      gaps: [300, 700],
    },
  ];
  for (const { label, namespace, timeout, user, gaps } of cases) {
    const runner = new Runner();
    const hooks = new SessionHooks({ namespace, inactivityTimeout: timeout, now: clock.now }).attach(runner);
    await runner.run(agents.support, "Quick question", { context: { userId: user } });
    for (const gap of gaps) {
      clock.advance(gap);
      const session = await hooks.sessionOf(
        await runner.run(agents.support, "Follow up", { context: { userId: user } }),
      );
      print(
        `   ${label} quiet ${String(gap).padStart(3)} s -> ${session?.isNew ? "new session " : "same session"} ${session?.sessionId}`,
      );
    }
  }
}

/** openai_agents_multi_agent.py: triage → specialist, all inside one session, with a record per run. */
async function handoffInOneSession(print: Print, agents: DemoAgents): Promise<void> {
  const clock = createFakeClock();
  const records: RunRecord[] = [];
  const hooks = new SessionHooks({
    namespace: "multi-agent-support",
    now: clock.now,
    onRecord: (record) => {
      records.push(record);
    },
  });
  print("");
  print("5. Triage -> specialist handoffs, one session per customer, one record per run");
  const questions = [
    "I was charged twice for my subscription this month",
    "My app keeps crashing when I try to upload files",
    "What are your business hours?",
  ];
  for (const question of questions) {
    const result = await hooks.run(agents.triage, question, { userId: "customer-42" });
    clock.advance(20);
    print(`   "${question}"`);
    print(`     ${result.lastAgent?.name}: ${oneLine(result.finalOutput)}`);
  }
  await hooks.flush();
  for (const record of records) {
    const path =
      record.handoffs.length > 0
        ? record.handoffs.map((handoff) => `${handoff.from} -> ${handoff.to}`).join(", ")
        : "no handoff";
    const tools = record.toolCalls.map((call) => `${call.name} -> "${oneLine(call.output)}"`).join("; ") || "none";
    const usage = record.usage;
    const tokens = usage
      ? `tokens in ${usage.inputTokens}, out ${usage.outputTokens}, total ${usage.totalTokens}, system ~${usage.systemTokensEstimate}`
      : "no token usage reported";
    print(`   record: session ${record.sessionId} | ${path} | tools: ${tools} | ${tokens}`);
  }
}

/** Memory lives with the session: remembered while it lives, gone after it expires. */
async function memoryWithinASession(print: Print, agents: DemoAgents): Promise<void> {
  const clock = createFakeClock();
  const hooks = new SessionHooks({ namespace: "assistant", inactivityTimeout: 120, now: clock.now });
  print("");
  print("6. Memory within a session, none after it expires (timeout 120 s)");
  const say = async (text: string, userId = "ana") => {
    const result = await hooks.run(agents.assistant, text, { userId });
    const session = await hooks.sessionOf(result);
    print(
      `   ${at(clock)}  ${`${userId}:`.padEnd(6)} ${text.padEnd(16)} -> ${oneLine(result.finalOutput).padEnd(28)} [${session?.sessionId}]`,
    );
  };
  await say("My name is Ana");
  clock.advance(30);
  await say("What's my name?");
  await say("What's my name?", "bruno");
  clock.advance(121);
  await say("What's my name?");
}

/** One line per message of a conversation, for the summarizer. */
function transcript(items: readonly unknown[]): string {
  return (items as AgentInputItem[])
    .flatMap((item) => {
      if (!("role" in item)) return [];
      const content = item.content as unknown;
      const text =
        typeof content === "string"
          ? content
          : Array.isArray(content)
            ? content.map((part: { text?: unknown }) => (typeof part.text === "string" ? part.text : "")).join("")
            : "";
      return [`${item.role}: ${text}`];
    })
    .join("\n");
}

/**
 * Carry-over (opt-in): when a session ends, the user's next one starts with a summary of it that a
 * summarizer agent writes; the old items themselves are handed over once and then gone.
 */
async function carryOverSummary(print: Print, agents: DemoAgents): Promise<void> {
  const clock = createFakeClock();
  const summaries = new Runner(); // not attached: the summarizer's runs are nobody's conversation
  const hooks = new SessionHooks({
    namespace: "assistant",
    inactivityTimeout: 120,
    now: clock.now,
    carryOver: {
      seed: async ({ previousSessionId, items }) => {
        const result = await summaries.run(agents.summarizer, transcript(items));
        const summary = String(result.finalOutput);
        print(`   (${previousSessionId} ended; its ${items.length} items summarized: "${summary}")`);
        return [{ role: "system", content: `Summary of the earlier conversation: ${summary}` }];
      },
    },
  });
  print("");
  print("7. Carry-over: the next session starts with a summary of the last one (opt-in)");
  const say = async (text: string) => {
    const result = await hooks.run(agents.assistant, text, { userId: "ana" });
    const session = await hooks.sessionOf(result);
    print(
      `   ${at(clock)}  ana:   ${text.padEnd(16)} -> ${oneLine(result.finalOutput).padEnd(28)} [${session?.sessionId}]`,
    );
  };
  await say("My name is Ana");
  clock.advance(30);
  await say("Tell me a joke");
  clock.advance(121);
  await say("What's my name?");
}

/**
 * Records and traces grouped by session: every run's record goes through a record sink to an HTTP
 * receiver, and every span of the run (the run, model calls, tools) carries the session over OTLP.
 */
async function recordsAndTraces(print: Print, agents: DemoAgents, reporting: DemoReporting): Promise<void> {
  const clock = createFakeClock();
  const { telemetry } = reporting;
  const runner = new Runner();
  const hooks = new SessionHooks({
    namespace: "whatsapp",
    now: clock.now,
    onRecord: telemetry.sink.add, // batched, retried, drops reported: never lost silently
    runInSession: telemetry.runInSession, // the run inside its session's OpenTelemetry context
  }).attach(runner);
  print("");
  print("8. Records and traces, grouped by session (a record sink over HTTP, spans over OTLP/HTTP)");
  const messages: [number, string, string][] = [
    [0, "ana", "I was charged twice this month"],
    [5, "bruno", "My app crashes when I upload"],
    [20, "ana", "Thanks! What are your hours?"],
    [200, "ana", "Back again: where is my order?"], // quiet 180 s > 120 s: a new session
  ];
  const start = clock.now();
  for (const [second, userId, text] of messages) {
    clock.set(start + second * 1000);
    const agent = /order/i.test(text) ? agents.support : agents.triage;
    const result = await hooks.run(agent, text, { userId });
    const session = await hooks.sessionOf(result);
    print(`   T=${String(second).padStart(3)}s ${userId.padEnd(5)} -> ${oneLine(result.finalOutput)}`);
    print(`          session.id ${session ? globalSessionId(session) : "(none)"}`);
  }
  await hooks.flush();
  await telemetry.flush();
  for (const line of reporting.summary()) print(`   ${line}`);
}
