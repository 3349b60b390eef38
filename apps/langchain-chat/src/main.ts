// `pnpm --filter @example/langchain-chat start` — offline with LangChain's fake chat model;
// set OPENAI_API_KEY (and optionally OPENAI_BASE_URL, OPENAI_MODEL for any OpenAI-compatible
// server) to talk to a real model. Sessions run on a simulated clock either way.
import { OpenAICompatibleChatModel } from "./openai-chat-model.js";
import { runLangChainChat } from "./story.js";

const apiKey = process.env.OPENAI_API_KEY;
const model = apiKey
  ? new OpenAICompatibleChatModel({ apiKey, baseUrl: process.env.OPENAI_BASE_URL, model: process.env.OPENAI_MODEL })
  : undefined;
console.log(
  model
    ? `Using ${model.model} (OPENAI_API_KEY is set).\n`
    : "Offline: LangChain's FakeListChatModel (set OPENAI_API_KEY for a real model).\n",
);
await runLangChainChat((line) => console.log(line), { model });
