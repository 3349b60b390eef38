// The real Agents Runner with a ScriptedModel (offline, SDK tracing off). Spans come from a model
// wrapper (as a model-call instrumentation would make them) and from a tool, with a nested child.
import {
  Agent,
  type ModelRequest,
  type ModelResponse,
  Runner,
  setTracingDisabled,
  tool,
  withTrace,
} from "@openai/agents";
import { assistantMessage, functionCall, modelResponse, ScriptedModel } from "@openai/agents/testing";
import { trace } from "@opentelemetry/api";
import { SessionHooks } from "@threadline/openai-agents";
import { globalSessionId, SessionManager } from "@threadline/session-core";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { withPendingSession, withSession } from "../src/index.js";
import { expected, NO_SESSION, sessionOf, useTracing } from "./support.js";

beforeAll(() => setTracingDisabled(true));
const tracing = useTracing();
const tracer = () => trace.getTracer("test");

/** A ScriptedModel whose calls are spans, as an instrumented model client's would be. */
class TracedModel extends ScriptedModel {
  constructor(
    private readonly label: string,
    steps: ConstructorParameters<typeof ScriptedModel>[0],
  ) {
    super(steps);
  }
  override getResponse(request: ModelRequest): Promise<ModelResponse> {
    return tracer().startActiveSpan(`model ${this.label}`, async (span) => {
      try {
        return await super.getResponse(request);
      } finally {
        span.end();
      }
    });
  }
}

function weatherAgent(label: string): Agent {
  const lookup = tool({
    name: "weather",
    description: "The weather in a city.",
    parameters: z.object({ city: z.string() }),
    execute: async ({ city }) =>
      tracer().startActiveSpan(`tool ${label}`, async (span) => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
        tracer().startSpan(`http ${label}`).end(); // a nested child span inside the tool
        span.end();
        return `Sunny in ${city}`;
      }),
  });
  return new Agent({
    name: "Weather",
    instructions: "Answer about the weather.",
    tools: [lookup],
    model: new TracedModel(label, [
      modelResponse([functionCall("weather", { city: "Lisbon" }, { callId: `call-${label}` })]),
      modelResponse([assistantMessage("Sunny.")]),
    ]),
  });
}

const names = (label: string) => [`model ${label}`, `tool ${label}`, `http ${label}`];

describe("Agents runs", () => {
  it("withSession around runner.run: every span of the run carries the session, the trace is grouped by it", async () => {
    const sessions = new SessionManager({ namespace: "agents" });
    const runner = new Runner();
    const session = await sessions.resolve("user-1");
    // The Agents trace grouped by the same key (what hooks.run() does for you).
    const result = await withSession(session, () =>
      withTrace("Weather workflow", () => runner.run(weatherAgent("a"), "Weather in Lisbon?"), {
        groupId: globalSessionId(session),
      }),
    );
    expect(result.finalOutput).toBe("Sunny.");
    tracer().startSpan("after the run").end();
    expect(tracing.spans().filter((span) => span.name === "model a")).toHaveLength(2);
    for (const span of tracing.spans().filter((span) => names("a").includes(span.name))) {
      expect(sessionOf(span), span.name).toEqual(expected(session));
    }
    expect(sessionOf(tracing.span("after the run"))).toEqual(NO_SESSION);
  });

  it("hooks.run() inside withPendingSession: the session the hooks resolve reaches every span, for concurrent users", async () => {
    const runner = new Runner();
    const hooks = new SessionHooks({ namespace: "agents" }).attach(runner);
    const users = Array.from({ length: 8 }, (_, index) => `user-${index}`);
    await Promise.all(
      users.map((userId) => {
        const context = { userId };
        return withPendingSession(
          () => hooks.sessionOf(context),
          () => hooks.run(weatherAgent(userId), "Weather in Lisbon?", { context }),
        );
      }),
    );
    for (const userId of users) {
      const session = await hooks.sessionManager.getSessionInfo(userId, "agents");
      expect(session?.turns).toBe(1); // resolved once: the helper does not resolve again
      const spans = tracing.spans().filter((span) => names(userId).includes(span.name));
      expect(spans).toHaveLength(4);
      for (const span of spans) {
        expect(sessionOf(span), span.name).toEqual(
          expected({ namespace: "agents", userId, sessionId: session?.sessionId ?? "" }),
        );
      }
    }
  });
});
