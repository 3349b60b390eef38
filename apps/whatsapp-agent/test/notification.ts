import { hmacSha256Hex } from "../src/signature.js";

export const APP_SECRET = "test-app-secret";
export const VERIFY_TOKEN = "test-verify-token";

/** A WhatsApp Cloud API notification carrying text messages, shaped like Meta's documentation. */
export function notification(messages: Array<{ id: string; from: string; text: string; name?: string }>): unknown {
  return {
    object: "whatsapp_business_account",
    entry: [
      {
        id: "102290129340398",
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: "15550783881", phone_number_id: "106540352242922" },
              contacts: messages.map((message) => ({ wa_id: message.from, profile: { name: message.name ?? "Test" } })),
              messages: messages.map((message) => ({
                from: message.from,
                id: message.id,
                timestamp: "1736251200",
                type: "text",
                text: { body: message.text },
              })),
            },
          },
        ],
      },
    ],
  };
}

/** A signed POST request init, as WhatsApp sends it. */
export async function signedDelivery(body: unknown, secret: string = APP_SECRET): Promise<RequestInit> {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  return {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-hub-signature-256": `sha256=${await hmacSha256Hex(secret, raw)}`,
    },
    body: raw,
  };
}
