import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { type MessageDeduplicator, memoryDeduplicator } from "./deduplicator.js";
import { type IncomingMessage, PayloadError, parseNotification } from "./payload.js";
import { isValidSignature } from "./signature.js";

/** What the agent answered to one message, and in which threadline session. */
export interface AgentReply {
  text: string;
  sessionId: string;
}

/** Options for {@link createWhatsAppApp}. */
export interface WhatsAppAppOptions {
  /** The token you typed into the Meta dashboard for the GET verification handshake. */
  verifyToken: string;
  /** The app secret that signs every delivery (`X-Hub-Signature-256`). */
  appSecret: string;
  /** Answers one message; the user id is `message.from`. */
  respond: (message: IncomingMessage) => Promise<AgentReply>;
  /** Sends a reply back to the user (the Graph API in production, a log offline). */
  send: (to: string, text: string) => Promise<void>;
  /** Drops WhatsApp's repeated deliveries. Default: in memory. */
  deduplicator?: MessageDeduplicator;
  /** Largest accepted body in bytes. Default 64 KiB (WhatsApp notifications are a few KiB). */
  maxBodyBytes?: number;
  /** Where failures of single messages are reported. Default `console.error`. */
  onError?: (error: unknown, message: IncomingMessage) => void;
}

/**
 * One delivered message, as the webhook reports it back (WhatsApp ignores the body; tests and
 * the simulator read it). Only `answered` and `duplicate` are final; any other status makes the
 * whole delivery answer 503 so that WhatsApp redelivers it, and the redelivery skips what was
 * already answered.
 * - `failed`: processing threw; the message was released and will be processed again.
 * - `in-progress`: another request (another instance, or a retry that overtook it) holds the
 *   message right now; it is not processed twice.
 * - `deferred`: an earlier message of the same sender in this delivery did not finish, so this
 *   one waits for the redelivery to keep the sender's messages in order.
 */
export interface DeliveryResult {
  messageId: string;
  from: string;
  status: "answered" | "duplicate" | "failed" | "in-progress" | "deferred";
  sessionId?: string;
}

/**
 * The WhatsApp Cloud API webhook: `GET /webhook` answers the verification handshake,
 * `POST /webhook` checks the signature, then hands each new text message to the agent in the
 * sender's session. Bad signatures get 401 and nothing is processed. One sender's messages are
 * processed one after another, in delivery order (also across concurrent requests to this
 * instance); different senders run in parallel.
 */
export function createWhatsAppApp(options: WhatsAppAppOptions): Hono {
  // An empty key makes Web Crypto throw on every request (a 500 per delivery); refuse it here.
  if (typeof options.appSecret !== "string" || options.appSecret.length === 0) {
    throw new Error("[whatsapp-agent] appSecret is required: the WhatsApp app secret that signs every delivery");
  }
  const deduplicator = options.deduplicator ?? memoryDeduplicator();
  const onError = options.onError ?? ((error: unknown) => console.error("[whatsapp-agent]", error));
  const senders = new SenderQueues();
  const app = new Hono();

  app.get("/webhook", (c) => {
    const mode = c.req.query("hub.mode");
    const token = c.req.query("hub.verify_token");
    const challenge = c.req.query("hub.challenge");
    if (mode === "subscribe" && token === options.verifyToken && challenge !== undefined) return c.text(challenge);
    return c.text("verification failed", 403);
  });

  app.post(
    "/webhook",
    bodyLimit({
      maxSize: options.maxBodyBytes ?? 64 * 1024,
      onError: (c) => c.json({ error: "body too large" }, 413),
    }),
    async (c) => {
      const rawBody = await c.req.text();
      if (!(await isValidSignature(options.appSecret, rawBody, c.req.header("x-hub-signature-256")))) {
        return c.json({ error: "invalid signature" }, 401);
      }
      let messages: IncomingMessage[];
      try {
        messages = parseNotification(JSON.parse(rawBody));
      } catch (error) {
        const reason = error instanceof PayloadError ? error.message : "body is not JSON";
        return c.json({ error: `malformed notification: ${reason}` }, 400);
      }
      const bySender = new Map<string, IncomingMessage[]>(); // Map.groupBy needs Node 21
      for (const message of messages) bySender.set(message.from, [...(bySender.get(message.from) ?? []), message]);
      const handled = await Promise.all(
        Array.from(bySender, ([from, own]) => senders.run(from, () => handleInOrder(own))),
      );
      const byId = new Map(handled.flat().map((result) => [result.messageId, result]));
      const results = messages.map((message) => byId.get(message.id) as DeliveryResult);
      const final = results.every((result) => result.status === "answered" || result.status === "duplicate");
      // 503, not 200, whenever a message is not done: WhatsApp then redelivers the notification.
      return c.json({ results }, final ? 200 : 503);
    },
  );

  /** One sender's messages, oldest first; the first one that does not finish defers the rest. */
  async function handleInOrder(messages: IncomingMessage[]): Promise<DeliveryResult[]> {
    const results: DeliveryResult[] = [];
    let blocked = false;
    for (const message of messages) {
      const result: DeliveryResult = blocked
        ? { messageId: message.id, from: message.from, status: "deferred" as const }
        : await handle(message);
      blocked ||= result.status !== "answered" && result.status !== "duplicate";
      results.push(result);
    }
    return results;
  }

  async function handle(message: IncomingMessage): Promise<DeliveryResult> {
    const base = { messageId: message.id, from: message.from };
    let claimed = false;
    try {
      const claim = await deduplicator.claim(message.id);
      if (claim === "done") return { ...base, status: "duplicate" };
      if (claim === "in-progress") return { ...base, status: "in-progress" };
      claimed = true;
      const reply = await options.respond(message);
      await options.send(message.from, reply.text);
      await deduplicator.complete(message.id);
      return { ...base, status: "answered", sessionId: reply.sessionId };
    } catch (error) {
      onError(error, message);
      if (claimed)
        await deduplicator.release(message.id).catch((releaseError: unknown) => onError(releaseError, message));
      return { ...base, status: "failed" };
    }
  }

  return app;
}

/**
 * Runs tasks one at a time per key, in the order they were queued; different keys run in
 * parallel. A key's entry is removed when its last task settles, so idle senders cost nothing.
 */
class SenderQueues {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
