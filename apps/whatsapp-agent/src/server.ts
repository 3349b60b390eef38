import { serve } from "@hono/node-server";
import { appFromEnvironment, ConfigurationError } from "./config.js";
import { type RecordReceiver, startRecordReceiver } from "./record-receiver.js";

const environment = { ...process.env };
const demo = environment.WHATSAPP_DEMO === "1" || environment.WHATSAPP_DEMO === "true";
// The demo sends its run records somewhere you can see them: a receiver on loopback that prints each
// batch, unless THREADLINE_RECORDS_URL names your own backend.
let receiver: RecordReceiver | undefined;
if (demo && !environment.THREADLINE_RECORDS_URL) {
  receiver = await startRecordReceiver({
    onBatch: (records) => {
      for (const record of records) {
        console.log(
          `  [records] ${record.userId} ${record.sessionId}: ${record.agents.join(" -> ")} (${record.runId})`,
        );
      }
    },
  });
  environment.THREADLINE_RECORDS_URL = receiver.url;
  console.log(`Run records go to ${receiver.url}`);
}

let configured: ReturnType<typeof appFromEnvironment>;
try {
  configured = appFromEnvironment(environment);
} catch (error) {
  if (!(error instanceof ConfigurationError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const { app, cleanupExpired, close } = configured;
const port = Number(environment.PORT ?? 3000);
const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info) => {
  console.log(`WhatsApp webhook on http://127.0.0.1:${info.port}/webhook`);
});
// Conversations that went quiet end without a message to notice it: look for them every 30 s, so
// their surveys go out soon after (with Redis, each one once across every instance).
const sweeper = setInterval(() => void cleanupExpired(), 30_000);

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  clearInterval(sweeper);
  // Requests in progress finish first (their records reach the sink); then the sink drains
  // (delivered, or reported dropped), the last spans are exported, and the demo receiver stops.
  server.close(() => {
    void close()
      .then(() => receiver?.stop())
      .finally(() => process.exit(0));
  });
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
