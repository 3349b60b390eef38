import { type Span, SpanKind, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import { sessionAttributes, setSessionOnActiveSpan, withPendingSession } from "@threadline/otel";
import type { SessionRef } from "@threadline/session-core";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ClaimTakenOverError, type MessageDeduplicator, memoryDeduplicator } from "./deduplicator.js";
import { type IncomingMessage, PayloadError, parseNotification } from "./payload.js";
import { isValidSignature } from "./signature.js";

/** What the agent answered to one message, and in which threadline session. */
export interface AgentReply {
  text: string;
  sessionId: string;
  /** The session itself, when there was one: the app's spans of the message carry it (`session.id`, `user.id`). */
  session?: SessionRef;
}

/** Options for {@link createWhatsAppApp}. */
export interface WhatsAppAppOptions {
  /** The token you typed into the Meta dashboard for the GET verification handshake. */
  verifyToken: string;
  /** The app secret that signs every delivery (`X-Hub-Signature-256`). */
  appSecret: string;
  /**
   * Answers one message; the user id is `message.from`. `options.signal` aborts when the call
   * ran past `respondTimeoutMs`: pass it on to the run (`run(agent, input, { signal })`) so the
   * model call stops too. Its answer is ignored after that either way.
   */
  respond: (message: IncomingMessage, options: RespondOptions) => Promise<AgentReply>;
  /**
   * Sends a reply back to the user (the Graph API in production, a log offline). `options.signal`
   * aborts when the send ran past `sendTimeoutMs`: pass it to `fetch` so the request stops too.
   */
  send: (to: string, text: string, options: SendOptions) => Promise<void>;
  /** Drops WhatsApp's repeated deliveries. Default: in memory. */
  deduplicator?: MessageDeduplicator;
  /**
   * Milliseconds one `respond` call may take. Past it the run is aborted, the message released
   * and the delivery answered 503, so WhatsApp redelivers it, and the sender's next messages on
   * this instance are no longer held up. Must be shorter than the deduplicator's `lease`, or a
   * slow call could be taken over by another instance while it still runs. Default 60000.
   */
  respondTimeoutMs?: number;
  /**
   * Milliseconds one `send` call may take. Past it the send is aborted and treated as failed: the
   * message is released and the delivery answered 503 (a {@link SendTimeoutError} in `onError`).
   * `respondTimeoutMs + sendTimeoutMs` must be shorter than the deduplicator's `lease`. Default 15000.
   */
  sendTimeoutMs?: number;
  /** Largest accepted body in bytes. Default 64 KiB (WhatsApp notifications are a few KiB). */
  maxBodyBytes?: number;
  /**
   * Where failures of single messages are reported ({@link RespondTimeoutError} when the agent
   * timed out), and answered messages whose claim another request took over meanwhile
   * ({@link ClaimTakenOverError}). Default `console.error`.
   */
  onError?: (error: unknown, message: IncomingMessage) => void;
  /**
   * Where the app's spans go: `POST /webhook` (server), and per message `whatsapp.message`, with
   * `whatsapp.respond` and `whatsapp.send` inside. Give one of a provider that has
   * `threadlineSpanProcessor` (see `createTracing`) and every span of a message carries its
   * session. Default: the global tracer (a no-op until a provider is registered).
   */
  tracer?: Tracer;
}

/** What {@link WhatsAppAppOptions.respond} gets besides the message. */
export interface RespondOptions {
  /** Aborted when the call ran past `respondTimeoutMs`. */
  signal: AbortSignal;
}

/** What {@link WhatsAppAppOptions.send} gets besides the recipient and the text. */
export interface SendOptions {
  /** Aborted when the send ran past `sendTimeoutMs`. */
  signal: AbortSignal;
}

/** A step of handling a message ran past its time limit; the message was released for WhatsApp's redelivery. */
abstract class MessageTimeoutError extends Error {
  readonly messageId: string;
  readonly timeoutMs: number;
  constructor(messageId: string, timeoutMs: number, what: string) {
    super(`[whatsapp-agent] ${what} within ${timeoutMs} ms: released for WhatsApp's redelivery`);
    this.messageId = messageId;
    this.timeoutMs = timeoutMs;
  }
}

/** The agent did not answer a message within `respondTimeoutMs`; the message was released. */
export class RespondTimeoutError extends MessageTimeoutError {
  override readonly name = "RespondTimeoutError";
  constructor(messageId: string, timeoutMs: number) {
    super(messageId, timeoutMs, `the agent did not answer message ${messageId}`);
  }
}

/**
 * The reply to a message was not sent within `sendTimeoutMs`; the send was aborted and the message
 * released. WhatsApp may still have delivered it, so the redelivery can answer the user twice.
 */
export class SendTimeoutError extends MessageTimeoutError {
  override readonly name = "SendTimeoutError";
  constructor(messageId: string, timeoutMs: number) {
    super(messageId, timeoutMs, `the reply to message ${messageId} was not sent`);
  }
}

/**
 * One delivered message, as the webhook reports it back (WhatsApp ignores the body; tests and
 * the simulator read it). Only `answered` and `duplicate` are final; any other status makes the
 * whole delivery answer 503 so that WhatsApp redelivers it, and the redelivery skips what was
 * already answered.
 * - `failed`: processing threw or the agent timed out; the message was released and will be
 *   processed again.
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
  const respondTimeoutMs = positiveMs("respondTimeoutMs", options.respondTimeoutMs ?? 60_000);
  const sendTimeoutMs = positiveMs("sendTimeoutMs", options.sendTimeoutMs ?? 15_000);
  // The claim is held from before the agent call until after the send: both must fit in its lease.
  if (deduplicator.lease !== undefined && respondTimeoutMs + sendTimeoutMs >= deduplicator.lease * 1000) {
    throw new Error(
      `[whatsapp-agent] respondTimeoutMs (${respondTimeoutMs} ms) + sendTimeoutMs (${sendTimeoutMs} ms) must be shorter than the deduplicator's lease (${deduplicator.lease} s): a longer message could be taken over by another instance while it runs`,
    );
  }
  const onError = options.onError ?? ((error: unknown) => console.error("[whatsapp-agent]", error));
  const senders = new SenderQueues();
  const tracer = options.tracer ?? trace.getTracer("@example/whatsapp-agent");
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
    (c) =>
      // The delivery's server span. Its session is known only once a message was answered, so the
      // handler sets it at the end (see deliverySession); every span below gets its own at start or end.
      tracer.startActiveSpan(
        "POST /webhook",
        { kind: SpanKind.SERVER, attributes: { "http.request.method": "POST", "http.route": "/webhook" } },
        async (span) => {
          try {
            const response = await receive(c.req.raw, span);
            span.setAttribute("http.response.status_code", response.status);
            if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
            return response;
          } finally {
            span.end();
          }
        },
      ),
  );

  async function receive(request: Request, span: Span): Promise<Response> {
    const rawBody = await request.text();
    if (
      !(await isValidSignature(options.appSecret, rawBody, request.headers.get("x-hub-signature-256") ?? undefined))
    ) {
      return Response.json({ error: "invalid signature" }, { status: 401 });
    }
    let messages: IncomingMessage[];
    try {
      messages = parseNotification(JSON.parse(rawBody));
    } catch (error) {
      const reason = error instanceof PayloadError ? error.message : "body is not JSON";
      return Response.json({ error: `malformed notification: ${reason}` }, { status: 400 });
    }
    const bySender = new Map<string, IncomingMessage[]>(); // Map.groupBy needs Node 21
    for (const message of messages) bySender.set(message.from, [...(bySender.get(message.from) ?? []), message]);
    span.setAttribute("whatsapp.senders", bySender.size);
    const handled = await Promise.all(
      Array.from(bySender, ([from, own]) => senders.run(from, () => handleInOrder(own))),
    );
    const session = deliverySession(handled.flat());
    if (session !== undefined) span.setAttributes(sessionAttributes(session));
    const byId = new Map(handled.flat().map(({ session: _session, ...result }) => [result.messageId, result]));
    const results = messages.map((message) => byId.get(message.id) as DeliveryResult);
    const final = results.every((result) => result.status === "answered" || result.status === "duplicate");
    // 503, not 200, whenever a message is not done: WhatsApp then redelivers the notification.
    return Response.json({ results }, { status: final ? 200 : 503 });
  }

  /** One sender's messages, oldest first; the first one that does not finish defers the rest. */
  async function handleInOrder(messages: IncomingMessage[]): Promise<Handled[]> {
    const results: Handled[] = [];
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

  /**
   * One message in its own span. The session is known when the agent answered: the spans that
   * started before (this one, `whatsapp.respond`) get it when they end, through the pending
   * session; the send starts inside it.
   */
  function handle(message: IncomingMessage): Promise<Handled> {
    let answered: (session: SessionRef | undefined) => void = () => {};
    const session = new Promise<SessionRef | undefined>((resolve) => {
      answered = resolve;
    });
    return withPendingSession(
      () => session,
      () =>
        tracer.startActiveSpan(
          "whatsapp.message",
          { attributes: { "messaging.system": "whatsapp", "messaging.message.id": message.id } },
          async (span) => {
            try {
              const result = await processMessage(message, answered);
              span.setAttribute("whatsapp.message.status", result.status);
              if (result.status === "failed") span.setStatus({ code: SpanStatusCode.ERROR });
              return result;
            } finally {
              answered(undefined); // no-op once answered; a message that never got a session ends without one
              span.end();
            }
          },
        ),
    );
  }

  async function processMessage(
    message: IncomingMessage,
    answered: (session: SessionRef | undefined) => void,
  ): Promise<Handled> {
    const base = { messageId: message.id, from: message.from };
    let token: string | undefined;
    try {
      const claim = await deduplicator.claim(message.id);
      if (claim.status === "done") return { ...base, status: "duplicate" };
      if (claim.status === "in-progress") return { ...base, status: "in-progress" };
      token = claim.token;
      const reply = await inSpan("whatsapp.respond", async () => {
        const answer = await inTime(respondTimeoutMs, new RespondTimeoutError(message.id, respondTimeoutMs), (signal) =>
          options.respond(message, { signal }),
        );
        answered(answer.session);
        // This span ends next: set the session on it now rather than count on the pending one's turn.
        if (answer.session) setSessionOnActiveSpan(answer.session);
        return answer;
      });
      await inSpan("whatsapp.send", () =>
        inTime(sendTimeoutMs, new SendTimeoutError(message.id, sendTimeoutMs), (signal) =>
          options.send(message.from, reply.text, { signal }),
        ),
      );
      if ((await deduplicator.complete(message.id, token)) === "taken-over") {
        onError(new ClaimTakenOverError(message.id), message);
      }
      return {
        ...base,
        status: "answered",
        sessionId: reply.sessionId,
        ...(reply.session ? { session: reply.session } : {}),
      };
    } catch (error) {
      onError(error, message);
      if (token !== undefined) {
        await deduplicator.release(message.id, token).catch((releaseError: unknown) => onError(releaseError, message));
      }
      return { ...base, status: "failed" };
    }
  }

  /** `call` in a child span of the active one, marked as an error when it throws. */
  function inSpan<T>(name: string, call: () => Promise<T>): Promise<T> {
    return tracer.startActiveSpan(name, async (span) => {
      try {
        return await call();
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  return app;
}

/** A message's result, with the session it was answered in (kept out of the JSON answer). */
type Handled = DeliveryResult & { session?: SessionRef };

/**
 * The session of a whole delivery: the one every answered message of it was answered in. A
 * delivery from several numbers (or whose messages were not answered) has none; its message
 * spans carry theirs.
 */
function deliverySession(handled: readonly Handled[]): SessionRef | undefined {
  const sessions = handled.flatMap((result) => (result.session ? [result.session] : []));
  const [first] = sessions;
  if (first === undefined || sessions.length !== handled.length) return undefined;
  const same = sessions.every(
    (session) =>
      session.namespace === first.namespace && session.userId === first.userId && session.sessionId === first.sessionId,
  );
  return same ? first : undefined;
}

/**
 * `call`'s result, or `timeoutError` once `timeoutMs` passed; the call's `signal` is then aborted
 * with that error. Does not wait for the call to stop: an agent or a send that ignores the abort
 * must not hold up the sender's queue past the claim's lease.
 */
async function inTime<T>(
  timeoutMs: number,
  timeoutError: Error,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      controller.abort(timeoutError);
      reject(timeoutError);
    }, timeoutMs);
  });
  try {
    // race() subscribes to both, so the abandoned call's later rejection is not unhandled.
    return await Promise.race([call(controller.signal), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function positiveMs(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new Error(`[whatsapp-agent] ${name} must be a positive number of milliseconds, got ${String(value)}`);
  }
  return value;
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
