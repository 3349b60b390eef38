// The attributes over the wire: spans exported with the OTLP/HTTP exporter (JSON) to a receiver
// this test starts on a free loopback port.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { SessionManager } from "@threadline/session-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { threadlineSpanProcessor, withSession } from "../src/index.js";

interface OtlpValue {
  stringValue?: string;
}
interface OtlpSpan {
  name: string;
  traceId: string;
  parentSpanId?: string;
  attributes: { key: string; value: OtlpValue }[];
}
interface OtlpRequest {
  resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
}

const received: { contentType: string | undefined; body: OtlpRequest }[] = [];
let server: Server;
let url: string;

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

beforeAll(async () => {
  server = createServer((request, response) => {
    void readBody(request).then((text) => {
      received.push({ contentType: request.headers["content-type"], body: JSON.parse(text) as OtlpRequest });
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});

afterAll(async () => {
  context.disable();
  await new Promise((resolve) => server.close(resolve));
});

describe("OTLP/HTTP export", () => {
  it("delivers session.id, user.id, gen_ai.conversation.id and the namespace on every span", async () => {
    const provider = new BasicTracerProvider({
      spanProcessors: [
        threadlineSpanProcessor({ aliases: ["langsmith"] }),
        new BatchSpanProcessor(new OTLPTraceExporter({ url })),
      ],
    });
    const tracer = provider.getTracer("otlp-test");
    const session = await new SessionManager({ namespace: "support" }).resolve("user-123");
    await withSession(session, () =>
      tracer.startActiveSpan("run", async (run) => {
        await tracer.startActiveSpan("tool", async (tool) => {
          await Promise.resolve();
          tool.end();
        });
        run.end();
      }),
    );
    tracer.startSpan("unrelated").end();
    await provider.forceFlush();
    await provider.shutdown();

    expect(received.length).toBeGreaterThan(0);
    expect(received[0]?.contentType).toBe("application/json");
    const spans = received.flatMap(({ body }) =>
      body.resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans)),
    );
    const attributes = (name: string) => {
      const span = spans.find((candidate) => candidate.name === name);
      if (span === undefined) throw new Error(`span ${name} did not arrive`);
      return Object.fromEntries(span.attributes.map(({ key, value }) => [key, value.stringValue]));
    };
    const key = `support/user-123/${session.sessionId}`;
    for (const name of ["run", "tool"]) {
      expect(attributes(name)).toEqual({
        "session.id": key,
        "user.id": "user-123",
        "gen_ai.conversation.id": key,
        "threadline.namespace": "support",
        "threadline.session_id": session.sessionId,
        "langsmith.metadata.session_id": key,
        "langsmith.metadata.user_id": "user-123",
      });
    }
    expect(attributes("unrelated")).toEqual({});
  });
});
