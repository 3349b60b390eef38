import { redisStore } from "@threadline/store-redis";
import { Redis } from "ioredis";
import { createWhatsAppApp, type WhatsAppAppOptions } from "./app.js";
import { createBot } from "./bot.js";
import { memoryDeduplicator, redisDeduplicator } from "./deduplicator.js";

/**
 * The app as configured by the environment:
 * - `WHATSAPP_VERIFY_TOKEN`, `WHATSAPP_APP_SECRET`: the webhook's secrets (demo values offline).
 * - `REDIS_URL`: sessions, memory and message dedupe in Redis, shared by every instance; memory otherwise.
 * - `OPENAI_API_KEY` (+ `OPENAI_MODEL`, default gpt-4.1-mini): a real model; offline rules otherwise.
 * - `WHATSAPP_TOKEN` + `WHATSAPP_PHONE_NUMBER_ID`: replies go out through the Graph API; printed otherwise.
 */
export function appFromEnvironment(environment: NodeJS.ProcessEnv = process.env): {
  app: ReturnType<typeof createWhatsAppApp>;
  close: () => Promise<void>;
} {
  const redis = environment.REDIS_URL ? new Redis(environment.REDIS_URL, { maxRetriesPerRequest: 1 }) : undefined;
  const bot = createBot({
    ...(redis ? { store: redisStore({ client: redis }) } : {}),
    ...(environment.OPENAI_API_KEY ? { model: environment.OPENAI_MODEL ?? "gpt-4.1-mini" } : {}),
  });
  const options: WhatsAppAppOptions = {
    verifyToken: environment.WHATSAPP_VERIFY_TOKEN ?? "demo-verify-token",
    appSecret: environment.WHATSAPP_APP_SECRET ?? "demo-app-secret",
    respond: bot.respond,
    send: graphApiSender(environment) ?? (async (to, text) => console.log(`  -> ${to}: ${text}`)),
    deduplicator: redis ? redisDeduplicator(redis) : memoryDeduplicator(),
  };
  return {
    app: createWhatsAppApp(options),
    async close() {
      await bot.hooks.flush();
      await redis?.quit();
    },
  };
}

function graphApiSender(environment: NodeJS.ProcessEnv): WhatsAppAppOptions["send"] | undefined {
  const token = environment.WHATSAPP_TOKEN;
  const phoneNumberId = environment.WHATSAPP_PHONE_NUMBER_ID;
  if (!token || !phoneNumberId) return undefined;
  return async (to, text) => {
    const response = await fetch(`https://graph.facebook.com/v21.0/${phoneNumberId}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ messaging_product: "whatsapp", to, type: "text", text: { body: text } }),
    });
    if (!response.ok) throw new Error(`WhatsApp send failed: ${response.status} ${await response.text()}`);
  };
}
