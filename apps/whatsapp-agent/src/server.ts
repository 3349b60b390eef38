import { serve } from "@hono/node-server";
import { appFromEnvironment, ConfigurationError } from "./config.js";

let configured: ReturnType<typeof appFromEnvironment>;
try {
  configured = appFromEnvironment();
} catch (error) {
  if (!(error instanceof ConfigurationError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const { app, cleanupExpired, close } = configured;
const port = Number(process.env.PORT ?? 3000);
const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info) => {
  console.log(`WhatsApp webhook on http://127.0.0.1:${info.port}/webhook`);
});
// Conversations that went quiet end without a message to notice it: look for them every 30 s, so
// their surveys go out soon after (with Redis, each one once across every instance).
const sweeper = setInterval(() => void cleanupExpired(), 30_000);
process.on("SIGINT", () => {
  clearInterval(sweeper);
  server.close();
  void close();
});
