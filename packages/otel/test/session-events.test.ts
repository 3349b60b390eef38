// session.start / session.end through the Logs API into the SDK's in-memory log exporter, from a
// real SessionManager on a fake clock.
import { logs } from "@opentelemetry/api-logs";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import { SessionManager } from "@threadline/session-core";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { sessionEventHandlers } from "../src/index.js";

const exporter = new InMemoryLogRecordExporter();
const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
afterEach(() => exporter.reset());
afterAll(() => provider.shutdown());

function clock(start = Date.UTC(2025, 0, 7, 12, 0, 0)) {
  let time = start;
  return {
    now: () => time,
    advance(seconds: number) {
      time += seconds * 1000;
    },
  };
}

const events = () =>
  exporter.getFinishedLogRecords().map((record) => ({
    eventName: record.eventName,
    attributes: record.attributes,
    time: record.hrTime[0] * 1000 + Math.round(record.hrTime[1] / 1e6),
  }));

describe("sessionEventHandlers", () => {
  it("emits session.end before session.start, with session.previous_id, as the conventions ask", async () => {
    const time = clock();
    const sessions = new SessionManager({
      namespace: "support",
      now: time.now,
      cleanupInterval: 0,
      ...sessionEventHandlers({ logger: provider.getLogger("test"), aliases: ["langfuse"] }),
    });
    const first = await sessions.resolve("user-123");
    time.advance(10);
    const second = await sessions.resolve("user-123", undefined, { forceNew: true });
    await new Promise((resolve) => setTimeout(resolve, 5)); // the callbacks are not awaited by resolve
    const firstKey = `support/user-123/${first.sessionId}`;
    const secondKey = `support/user-123/${second.sessionId}`;
    expect(events()).toEqual([
      {
        eventName: "session.start",
        time: first.createdAt,
        attributes: {
          "session.id": firstKey,
          "user.id": "user-123",
          "gen_ai.conversation.id": firstKey,
          "threadline.namespace": "support",
          "threadline.session_id": first.sessionId,
          "langfuse.session.id": firstKey,
          "langfuse.user.id": "user-123",
        },
      },
      {
        eventName: "session.end",
        time: time.now(),
        attributes: expect.objectContaining({ "session.id": firstKey, "threadline.session.end_reason": "replaced" }),
      },
      {
        eventName: "session.start",
        time: second.createdAt,
        attributes: expect.objectContaining({ "session.id": secondKey, "session.previous_id": firstKey }),
      },
    ]);
  });

  it("uses the global logger provider by default, looked up at each event", async () => {
    const sessions = new SessionManager({ namespace: "n", cleanupInterval: 0, ...sessionEventHandlers() });
    await sessions.resolve("before"); // no provider yet: goes nowhere
    logs.setGlobalLoggerProvider(provider);
    try {
      await sessions.resolve("after");
      await sessions.closeSession("after");
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(events().map((event) => [event.eventName, event.attributes["user.id"]])).toEqual([
        ["session.start", "after"],
        ["session.end", "after"],
      ]);
      expect(exporter.getFinishedLogRecords()[0]?.instrumentationScope.name).toBe("@threadline/otel");
    } finally {
      logs.disable();
    }
  });

  it("rejects a logger without emit", () => {
    expect(() => sessionEventHandlers({ logger: {} as never })).toThrow(/logger must be a Logs API Logger/);
  });
});
