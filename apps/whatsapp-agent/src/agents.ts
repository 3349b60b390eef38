import { Agent, type Model } from "@openai/agents";
import { assistantMessage, carriedDigest, handoffTo, offlineModel, userTexts } from "./offline-model.js";

const billingWords = /\b(bill|billing|invoice|payment|pay|charge|refund|boleto|pix)\b/i;
const technicalWords = /\b(error|bug|crash|login|password|app|install)\b/i;

/** The triage → specialist agents of the seed's WhatsApp bot. `model` undefined = offline. */
export function createAgents(model?: string | Model): Agent {
  const offline = model === undefined;
  const billing = new Agent({
    name: "Billing specialist",
    handoffDescription: "Questions about bills, payments and refunds",
    instructions: "You handle billing questions for a telecom over WhatsApp. Be brief and concrete.",
    model: offline ? specialistModel("billing") : model,
  });
  const technical = new Agent({
    name: "Technical specialist",
    handoffDescription: "App errors, login problems and installation",
    instructions: "You solve technical problems for a telecom app over WhatsApp. Be brief and concrete.",
    model: offline ? specialistModel("technical") : model,
  });
  return Agent.create({
    name: "Triage",
    instructions:
      "You greet WhatsApp users of a telecom and route them (a system note may tell you how their previous conversation went: pick up from it): billing questions to the billing specialist, technical problems to the technical specialist. Answer small talk yourself in one sentence. A lone number from 1 to 5 rates our last conversation: thank the user for it.",
    handoffs: [billing, technical],
    model: offline ? triageModel() : model,
  });
}

function triageModel(): Model {
  return offlineModel((request) => {
    const latest = userTexts(request).at(-1) ?? "";
    if (/^\s*[1-5]\s*$/.test(latest)) return [assistantMessage("Thanks for rating us! Write anytime you need help.")];
    if (billingWords.test(latest)) return handoffTo(request, "billing");
    if (technicalWords.test(latest)) return handoffTo(request, "technical");
    // A conversation seeded from the previous one (carry-over) picks up where that one stopped.
    const digest = carriedDigest(request);
    if (digest !== undefined)
      return [assistantMessage(`Welcome back! My note from last time: ${digest} How can I help now?`)];
    return [assistantMessage("Hi! I can help with bills and with the app. What do you need?")];
  });
}

// The specialists say how much of the conversation they can see: that is the session memory at
// work (earlier turns of this session come back as input; a new session starts empty).
function specialistModel(topic: string): Model {
  return offlineModel((request) => {
    const texts = userTexts(request);
    const earlier = texts.length - 1;
    const digest = carriedDigest(request);
    const memory =
      earlier > 0
        ? `I can see your ${earlier} earlier message${earlier === 1 ? "" : "s"} in this conversation.`
        : digest === undefined
          ? "This is the start of our conversation."
          : `This is a new conversation; my note from the last one: ${digest}`;
    return [assistantMessage(`${topic === "billing" ? "Billing" : "Technical support"} here. ${memory}`)];
  });
}
