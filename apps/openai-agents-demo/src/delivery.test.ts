// The record receiver dies in the middle of a stream of runs and comes back on the same port:
// every record the hooks emitted is either stored once or reported dropped (with the record),
// none vanishes. And every span of every run reaches the OTLP receiver with its session.
import { setTracingDisabled } from "@openai/agents";
import { SessionHooks } from "@threadline/openai-agents";
import { type ErrorContext, globalSessionId, type RunRecord } from "@threadline/session-core";
import { createFakeClock } from "@threadline/session-core/fake-clock";
import { beforeAll, expect, it } from "vitest";
import { createAgents } from "./agents.js";
import { startLocalReporting } from "./reporting.js";

beforeAll(() => setTracingDisabled(true));

const users = ["ana", "bruno", "carla", "davi"];
const questions = [
  "I was charged twice this month", // triage -> billing, a tool call
  "My app crashes when I upload", // triage -> tech support
  "What are your hours?", // triage answers
];

it("a record receiver killed mid-stream loses nothing silently; every span of a run carries the session", async () => {
  // Small batches and a few quick attempts, so batches are in flight when the receiver dies and
  // some use up their attempts while it is down. The sink's timers are real (it takes no clock),
  // but nothing here waits for one to run out: the test waits for events (a drop, a flush).
  const reporting = await startLocalReporting({
    batchSize: 4,
    flushInterval: 0.005,
    minDelay: 0,
    maxDelay: 0.002,
    maxAttempts: 3,
    deliveryTimeout: 5,
  });
  const { telemetry, records: receiver } = reporting;
  const clock = createFakeClock();
  const emitted: RunRecord[] = [];
  const hookFailures: { error: Error; context: ErrorContext }[] = [];
  const hooks = new SessionHooks({
    namespace: "whatsapp",
    now: clock.now,
    onRecord: (record) => {
      emitted.push(record);
      telemetry.sink.add(record);
    },
    runInSession: telemetry.runInSession,
    onError: (error, context) => hookFailures.push({ error, context }),
  });
  const agents = createAgents("offline", { tracer: telemetry.tracer });

  /** One message from each user at once, `rounds` times; every 3rd round is 3 minutes later (new sessions). */
  let round = 0;
  const traffic = async (rounds: number) => {
    for (let index = 0; index < rounds; index++, round++) {
      clock.advance(round % 3 === 2 ? 180 : 10);
      const question = questions[round % questions.length] as string;
      const results = await Promise.all(users.map((userId) => hooks.run(agents.triage, question, { userId })));
      expect(results.every((result) => typeof result.finalOutput === "string")).toBe(true);
    }
  };

  try {
    await traffic(5); // receiver up
    await telemetry.sink.flush(); // so some records surely arrived before the kill, however slow the machine
    // Killed while runs go on: requests in flight are cut, then the port refuses connections. The
    // runs are not slowed; their records wait, are retried, and some use up their attempts.
    await Promise.all([traffic(5), receiver.stop()]);
    await reporting.whenDropped(); // down long enough for a batch to use up its attempts
    await receiver.start(); // back on the same port
    await traffic(5);
    await hooks.flush();
    await telemetry.flush();
  } finally {
    await reporting.stop();
  }

  // Records: every emitted record is stored once or reported dropped with its record.
  const runIds = emitted.map((record) => record.runId);
  expect(new Set(runIds).size).toBe(60);
  const stored = receiver.records().map((record) => record.runId);
  expect(new Set(stored).size).toBe(stored.length); // no record twice, across batches either
  const dropped = reporting.dropped.map((record) => record.runId);
  const accounted = new Set([...stored, ...dropped]);
  expect(runIds.filter((runId) => !accounted.has(runId))).toEqual([]); // none vanished
  expect([...accounted].filter((runId) => !runIds.includes(runId))).toEqual([]); // none invented
  expect(dropped.length).toBeGreaterThan(0);
  const before = new Set(runIds.slice(0, 20));
  const after = new Set(runIds.slice(-20));
  expect(stored.some((runId) => before.has(runId))).toBe(true); // delivered before the kill
  expect(stored.some((runId) => after.has(runId))).toBe(true); // and after the restart
  expect(reporting.failures).toEqual([]); // the sink reported drops only
  expect(hookFailures).toEqual([]);

  // Spans: each run is one trace under its "agent run" span; every span in it carries the run's session.
  const spans = reporting.traces.spans;
  const runSpans = spans.filter((span) => span.name === "agent run");
  expect(runSpans).toHaveLength(60);
  expect(new Set(runSpans.map((span) => span.traceId)).size).toBe(60);
  for (const span of spans) {
    const runSpan = runSpans.find((candidate) => candidate.traceId === span.traceId);
    expect(runSpan, span.name).toBeDefined();
    expect(span.attributes["session.id"], span.name).toBe(runSpan?.attributes["session.id"]);
    expect(span.attributes["user.id"], span.name).toBe(runSpan?.attributes["user.id"]);
    expect(span.attributes["gen_ai.conversation.id"], span.name).toBe(runSpan?.attributes["session.id"]);
  }
  expect(spans.filter((span) => span.name.startsWith("chat ")).length).toBeGreaterThanOrEqual(60);
  expect(spans.filter((span) => span.name === "tool lookup_charges")).toHaveLength(20);
  // The run spans' sessions are exactly the records' sessions, run for run.
  const sessionsOfRuns = runSpans.map((span) => `${span.attributes["session.id"]} ${span.attributes["user.id"]}`);
  const sessionsOfRecords = emitted.map(
    (record) => `${globalSessionId({ ...record, sessionId: String(record.sessionId) })} ${record.userId}`,
  );
  expect(sessionsOfRuns.sort()).toEqual(sessionsOfRecords.sort());
  // The first session, and a new one after each of the 5 quiet gaps (rounds 2, 5, 8, 11, 14).
  expect(new Set(sessionsOfRecords).size).toBe(users.length * 6);
});
