import { createServer, type IncomingMessage as HttpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createWhatsAppApp, type DeliveryResult, SendTimeoutError } from "../src/app.js";
import { createGraphApiSender } from "../src/config.js";
import { memoryDeduplicator } from "../src/deduplicator.js";
import { APP_SECRET, notification, signedDelivery, VERIFY_TOKEN } from "./notification.js";

// A Graph API send that never answers must not block its sender's queue past the claim's lease.
// A local HTTP server stands in for the Graph API; while `hanging` it reads each request and never
// answers. The send is cut at `sendTimeoutMs` (250 ms here: room for the first fetch to reach the
// local server, which took ~90 ms on this machine; the hung request never settles, so the 503 does
// not depend on how fast the machine is), the message is released and the delivery answered 503.

interface FakeGraphApi {
  url: string;
  hanging: boolean;
  /** Each request's path and JSON body, and a promise that settles when its connection closes. */
  requests: Array<{ path: string; body: unknown; closed: Promise<void> }>;
  server: Server;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function fakeGraphApi(): Promise<FakeGraphApi> {
  const api = { url: "", hanging: true, requests: [] } as unknown as FakeGraphApi;
  api.server = createServer((request: HttpRequest, response) => {
    const chunks: Buffer[] = [];
    const closed = new Promise<void>((resolve) => response.on("close", () => resolve()));
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      api.requests.push({ path: request.url ?? "", body: JSON.parse(Buffer.concat(chunks).toString()), closed });
      if (api.hanging) return; // never answers
      response.writeHead(200, { "content-type": "application/json" }).end('{"messages":[{"id":"wamid.out"}]}');
    });
  });
  servers.push(api.server);
  await new Promise<void>((resolve) => api.server.listen(0, "127.0.0.1", resolve));
  api.url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}/v21.0`;
  return api;
}

async function deliver(app: ReturnType<typeof createWhatsAppApp>, init: RequestInit) {
  const response = await app.request("/webhook", init);
  return { status: response.status, results: ((await response.json()) as { results: DeliveryResult[] }).results };
}

const baseOptions = {
  verifyToken: VERIFY_TOKEN,
  appSecret: APP_SECRET,
  respond: async (message: { text: string }) => ({ text: `echo ${message.text}`, sessionId: "s" }),
};

describe("the send is bounded", () => {
  it("a Graph API that never answers: the send is aborted, the message released, 503; the redelivery is sent", async () => {
    const api = await fakeGraphApi();
    const errors: unknown[] = [];
    const app = createWhatsAppApp({
      ...baseOptions,
      send: createGraphApiSender({ token: "t", phoneNumberId: "106540352242922", baseUrl: api.url }),
      sendTimeoutMs: 250,
      onError: (error) => errors.push(error),
    });
    const init = await signedDelivery(notification([{ id: "wamid.s1", from: "5511999999999", text: "oi" }]));
    expect(await deliver(app, init)).toMatchObject({
      status: 503,
      results: [{ messageId: "wamid.s1", status: "failed" }],
    });
    expect(errors).toEqual([expect.any(SendTimeoutError)]);
    expect(errors[0]).toMatchObject({ messageId: "wamid.s1", timeoutMs: 250 });
    expect(api.requests).toHaveLength(1);
    expect(api.requests[0]).toMatchObject({
      path: "/v21.0/106540352242922/messages",
      body: { messaging_product: "whatsapp", to: "5511999999999", text: { body: "echo oi" } },
    });
    await api.requests[0]?.closed; // the request was aborted, not left open (the test would time out)

    // The message was released, not dropped: WhatsApp's redelivery is answered once the API answers.
    api.hanging = false;
    expect(await deliver(app, init)).toMatchObject({ status: 200, results: [{ status: "answered" }] });
    expect(api.requests).toHaveLength(2);
  });

  it("a send that ignores the abort still frees the sender's queue", async () => {
    let calls = 0;
    const sent: string[] = [];
    const app = createWhatsAppApp({
      ...baseOptions,
      send: async (_to, text) => {
        if (++calls === 1) return new Promise<void>(() => {}); // never settles, never looks at the signal
        sent.push(text);
      },
      sendTimeoutMs: 20,
      onError: () => {},
    });
    const first = await signedDelivery(notification([{ id: "wamid.s2", from: "5511999999999", text: "oi" }]));
    expect((await deliver(app, first)).status).toBe(503);
    const next = await signedDelivery(notification([{ id: "wamid.s3", from: "5511999999999", text: "still there?" }]));
    expect(await deliver(app, next)).toMatchObject({ status: 200, results: [{ status: "answered" }] });
    expect(await deliver(app, first)).toMatchObject({ status: 200, results: [{ status: "answered" }] });
    expect(sent).toEqual(["echo still there?", "echo oi"]);
  });

  it("refuses an agent and a send timeout that do not fit in the lease together, and defaults inside it", () => {
    const options = { ...baseOptions, send: async () => {} };
    // 60 s + 15 s (the defaults) do not fit in 70 s, though each alone would.
    expect(() => createWhatsAppApp({ ...options, deduplicator: memoryDeduplicator({ lease: 70 }) })).toThrow(
      /respondTimeoutMs \(60000 ms\) \+ sendTimeoutMs \(15000 ms\) must be shorter than the deduplicator's lease \(70 s\)/,
    );
    expect(() => createWhatsAppApp({ ...options, deduplicator: memoryDeduplicator({ lease: 76 }) })).not.toThrow();
    expect(() => createWhatsAppApp({ ...options, sendTimeoutMs: 250_000 })).toThrow(/shorter than/);
    expect(() => createWhatsAppApp({ ...options, sendTimeoutMs: 0 })).toThrow(/sendTimeoutMs must be a positive/);
    expect(() => createWhatsAppApp({ ...options, sendTimeoutMs: Number.POSITIVE_INFINITY })).toThrow(/positive/);
    expect(() => createWhatsAppApp(options)).not.toThrow();
  });
});
