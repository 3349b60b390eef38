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

/** One delivered message, as the webhook reports it back (WhatsApp ignores the body; tests and the simulator read it). */
export interface DeliveryResult {
  messageId: string;
  from: string;
  status: "answered" | "duplicate" | "failed";
  sessionId?: string;
}

/**
 * The WhatsApp Cloud API webhook: `GET /webhook` answers the verification handshake,
 * `POST /webhook` checks the signature, then hands each new text message to the agent in the
 * sender's session. Bad signatures get 401 and nothing is processed.
 */
export function createWhatsAppApp(options: WhatsAppAppOptions): Hono {
  const deduplicator = options.deduplicator ?? memoryDeduplicator();
  const onError = options.onError ?? ((error: unknown) => console.error("[whatsapp-agent]", error));
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
      const results = await Promise.all(messages.map((message) => handle(message)));
      return c.json({ results });
    },
  );

  async function handle(message: IncomingMessage): Promise<DeliveryResult> {
    const base = { messageId: message.id, from: message.from };
    try {
      if (!(await deduplicator.firstDelivery(message.id))) return { ...base, status: "duplicate" };
      const reply = await options.respond(message);
      await options.send(message.from, reply.text);
      return { ...base, status: "answered", sessionId: reply.sessionId };
    } catch (error) {
      onError(error, message);
      return { ...base, status: "failed" };
    }
  }

  return app;
}
