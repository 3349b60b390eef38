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
const { app, close } = configured;
const port = Number(process.env.PORT ?? 3000);
const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info) => {
  console.log(`WhatsApp webhook on http://127.0.0.1:${info.port}/webhook`);
});
process.on("SIGINT", () => {
  server.close();
  void close();
});
