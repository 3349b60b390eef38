import {
  createRecordSink,
  type ErrorHandler,
  httpRecordSink,
  type RecordSink,
  type RecordSinkOptions,
} from "@threadline/session-core";
import { redisStore } from "@threadline/store-redis";
import { Redis } from "ioredis";
import { createWhatsAppApp, type WhatsAppAppOptions } from "./app.js";
import { createBot } from "./bot.js";
import { memoryDeduplicator, redisDeduplicator } from "./deduplicator.js";
import { sessionEndSurvey } from "./survey.js";
import { createTracing, type Tracing } from "./telemetry.js";

/** Options for {@link appFromEnvironment}: what the environment does not say. */
export interface AppFromEnvironmentOptions {
  /** The clock of sessions (ms since epoch). Default `Date.now`. */
  now?: () => number;
  /**
   * Where threadline's failures go: the store, a survey that failed, and every run record the sink
   * gave up on (`RECORDS_DROPPED`, the records in `context.records`). Default `console.error`.
   */
  onError?: ErrorHandler;
  /** The record sink's batching and retry options (`batchSize`, `flushInterval`, `maxAttempts`, …). */
  recordSink?: Omit<RecordSinkOptions, "deliver" | "onError">;
}

/**
 * The app as configured by the environment:
 * - `WHATSAPP_APP_SECRET`, `WHATSAPP_VERIFY_TOKEN`: the webhook's secrets, **required**. Without
 *   them anyone could sign deliveries with a published value and make the bot message any number.
 * - `WHATSAPP_DEMO=1`: the offline demo instead: public demo secrets, and replies are only
 *   printed (it refuses to start when `WHATSAPP_TOKEN` is set, so it can never send).
 * - `REDIS_URL`: sessions, memory and message dedupe in Redis, shared by every instance; memory otherwise.
 * - `OPENAI_API_KEY` (+ `OPENAI_MODEL`, default gpt-4.1-mini): a real model; offline rules otherwise.
 * - `WHATSAPP_TOKEN` + `WHATSAPP_PHONE_NUMBER_ID`: replies go out through the Graph API; printed otherwise.
 * - `THREADLINE_RECORDS_URL` (+ `THREADLINE_RECORDS_TOKEN`): one run record per message, batched and
 *   POSTed there by a record sink (`createRecordSink` + `httpRecordSink`), retried, drops reported to
 *   `onError`. No records are sent without it (`server.ts` starts a local receiver in the demo).
 * - `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (a full URL), or `OTEL_EXPORTER_OTLP_ENDPOINT` (`/v1/traces`
 *   is added): the app's spans over OTLP/HTTP, each with the message's session (`session.id`, `user.id`).
 *
 * When a conversation ends, the user gets a short survey through the same send path
 * ({@link sessionEndSurvey}). `cleanupExpired()` finds conversations that went quiet (the server
 * calls it every 30 s), so the survey does not wait for the user's next message.
 *
 * Throws a {@link ConfigurationError} before anything connects when the environment is unsafe.
 */
export function appFromEnvironment(
  environment: NodeJS.ProcessEnv = process.env,
  options: AppFromEnvironmentOptions = {},
): {
  app: ReturnType<typeof createWhatsAppApp>;
  /** Finds conversations that ended by time and sends their surveys; returns how many it found. Never rejects. */
  cleanupExpired: () => Promise<number>;
  /** The record sink, when `THREADLINE_RECORDS_URL` is set. */
  records: RecordSink | undefined;
  /**
   * Waits for the runs' records and surveys, drains the record sink (`shutdown()`: delivered, or
   * reported dropped), exports the last spans, then disconnects. Call after the server stopped taking requests.
   */
  close: () => Promise<void>;
} {
  const secrets = webhookSecrets(environment);
  const redis = environment.REDIS_URL ? new Redis(environment.REDIS_URL, { maxRetriesPerRequest: 1 }) : undefined;
  const send: WhatsAppAppOptions["send"] =
    (secrets.demo ? undefined : graphApiSender(environment)) ??
    (async (to, text) => console.log(`  -> ${to}: ${text}`));
  const onError: ErrorHandler =
    options.onError ?? ((error, context) => console.error(`[whatsapp-agent] ${context.operation} failed`, error));
  const records = recordSinkFrom(environment, options, onError);
  const tracing = tracingFrom(environment);
  const bot = createBot({
    ...(redis ? { store: redisStore({ client: redis }) } : {}),
    ...(environment.OPENAI_API_KEY ? { model: environment.OPENAI_MODEL ?? "gpt-4.1-mini" } : {}),
    ...(options.now ? { now: options.now } : {}),
    onSessionEnd: sessionEndSurvey({ send }),
    onError,
    ...(records ? { onRecord: records.add } : {}),
  });
  const manager = bot.hooks.sessionManager;
  return {
    app: createWhatsAppApp({
      appSecret: secrets.appSecret,
      verifyToken: secrets.verifyToken,
      respond: bot.respond,
      send,
      deduplicator: redis ? redisDeduplicator(redis) : memoryDeduplicator(),
      ...(tracing ? { tracer: tracing.tracer } : {}),
    }),
    records,
    cleanupExpired: () =>
      manager.cleanupExpired().catch((error: unknown) => {
        console.error("[whatsapp-agent] cleanup failed", error);
        return 0;
      }),
    async close() {
      await bot.hooks.flush(); // surveys still being sent included, and every run's record handed to the sink
      await records?.shutdown(); // delivered, or reported dropped to onError: none vanishes
      await tracing?.shutdown();
      await redis?.quit();
    },
  };
}

function recordSinkFrom(
  environment: NodeJS.ProcessEnv,
  options: AppFromEnvironmentOptions,
  onError: ErrorHandler,
): RecordSink | undefined {
  const url = environment.THREADLINE_RECORDS_URL;
  if (!url) return undefined;
  const token = environment.THREADLINE_RECORDS_TOKEN;
  try {
    return createRecordSink({
      ...options.recordSink,
      deliver: httpRecordSink({ url, ...(token ? { token } : {}) }),
      onError,
    });
  } catch (error) {
    // A bad URL or sink option is found here, before anything connects, like the other variables.
    throw new ConfigurationError(`[whatsapp-agent] THREADLINE_RECORDS_URL: ${(error as Error).message}`);
  }
}

function tracingFrom(environment: NodeJS.ProcessEnv): Tracing | undefined {
  const endpoint = environment.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, "");
  const url = environment.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (endpoint ? `${endpoint}/v1/traces` : undefined);
  return url ? createTracing({ url }) : undefined;
}

/** The environment cannot run the webhook safely; the message says which variable to set. */
export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
}

/** The published demo values: only ever used in the explicit, send-less demo mode. */
export const DEMO_SECRETS = { appSecret: "demo-app-secret", verifyToken: "demo-verify-token" } as const;

function webhookSecrets(environment: NodeJS.ProcessEnv): { appSecret: string; verifyToken: string; demo: boolean } {
  const demo = environment.WHATSAPP_DEMO === "1" || environment.WHATSAPP_DEMO === "true";
  if (demo) {
    if (environment.WHATSAPP_TOKEN) {
      throw new ConfigurationError(
        "[whatsapp-agent] WHATSAPP_DEMO uses public demo secrets and never sends: unset WHATSAPP_TOKEN, or unset WHATSAPP_DEMO and set WHATSAPP_APP_SECRET",
      );
    }
    return {
      appSecret: environment.WHATSAPP_APP_SECRET || DEMO_SECRETS.appSecret,
      verifyToken: environment.WHATSAPP_VERIFY_TOKEN || DEMO_SECRETS.verifyToken,
      demo,
    };
  }
  const appSecret = environment.WHATSAPP_APP_SECRET ?? "";
  const verifyToken = environment.WHATSAPP_VERIFY_TOKEN ?? "";
  for (const [name, value] of [
    ["WHATSAPP_APP_SECRET", appSecret],
    ["WHATSAPP_VERIFY_TOKEN", verifyToken],
  ] as const) {
    if (value.trim() === "") {
      throw new ConfigurationError(
        `[whatsapp-agent] ${name} is not set: set it to your app's value (Meta dashboard), or set WHATSAPP_DEMO=1 for the offline demo, which never sends`,
      );
    }
    if (value === DEMO_SECRETS.appSecret || value === DEMO_SECRETS.verifyToken) {
      throw new ConfigurationError(`[whatsapp-agent] ${name} is the public demo value: use your app's own`);
    }
  }
  return { appSecret, verifyToken, demo };
}

function graphApiSender(environment: NodeJS.ProcessEnv): WhatsAppAppOptions["send"] | undefined {
  const token = environment.WHATSAPP_TOKEN;
  const phoneNumberId = environment.WHATSAPP_PHONE_NUMBER_ID;
  if (!token || !phoneNumberId) return undefined;
  return createGraphApiSender({ token, phoneNumberId });
}

/** Options for {@link createGraphApiSender}. */
export interface GraphApiSenderOptions {
  /** The WhatsApp access token. */
  token: string;
  /** The sending phone number's id. */
  phoneNumberId: string;
  /** The Graph API's base URL, without a trailing slash. Default `https://graph.facebook.com/v21.0`. */
  baseUrl?: string;
}

/**
 * Sends text replies through the Graph API. The request is aborted with the app's `signal`
 * (past `sendTimeoutMs`); any non-2xx answer throws, so the message is released for redelivery.
 */
export function createGraphApiSender(options: GraphApiSenderOptions): WhatsAppAppOptions["send"] {
  const baseUrl = options.baseUrl ?? "https://graph.facebook.com/v21.0";
  return async (to, text, { signal }) => {
    const response = await fetch(`${baseUrl}/${options.phoneNumberId}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${options.token}`, "content-type": "application/json" },
      body: JSON.stringify({ messaging_product: "whatsapp", to, type: "text", text: { body: text } }),
      signal,
    });
    if (!response.ok) throw new Error(`WhatsApp send failed: ${response.status} ${await response.text()}`);
  };
}
