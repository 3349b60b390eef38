import { setTracingDisabled } from "@openai/agents";
import { startLocalReporting } from "./reporting.js";
import { runDemo } from "./story.js";

const mode = process.env.OPENAI_API_KEY ? "openai" : "offline";
// Offline there is nowhere to send the SDK's own traces; with a key, runs from hooks.run() show
// up in the OpenAI traces dashboard grouped by their threadline session id.
if (mode === "offline") setTracingDisabled(true);
// Records and OTLP spans (scenario 8) go to two receivers the demo starts on loopback.
const reporting = await startLocalReporting();
try {
  await runDemo((line) => console.log(line), mode, reporting);
} finally {
  await reporting.stop();
}
