import { serve } from "@hono/node-server";
import { appFromEnvironment } from "./config.js";

const { app, close } = appFromEnvironment();
const port = Number(process.env.PORT ?? 3000);
const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info) => {
  console.log(`WhatsApp webhook on http://127.0.0.1:${info.port}/webhook`);
});
process.on("SIGINT", () => {
  server.close();
  void close();
});
