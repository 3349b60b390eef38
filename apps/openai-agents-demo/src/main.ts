import { setTracingDisabled } from "@openai/agents";
import { runDemo } from "./story.js";

const mode = process.env.OPENAI_API_KEY ? "openai" : "offline";
// Offline there is nowhere to send traces; with a key, runs from hooks.run() show up in the
// OpenAI traces dashboard grouped by their threadline session id.
if (mode === "offline") setTracingDisabled(true);
await runDemo((line) => console.log(line), mode);
