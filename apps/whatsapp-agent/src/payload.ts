/** One text message from a WhatsApp user, as the agent needs it. */
export interface IncomingMessage {
  /** WhatsApp's message id (`wamid…`); WhatsApp retries deliveries, so this is the dedupe key. */
  id: string;
  /** The sender's phone number: the threadline user id. */
  from: string;
  /** The sender's profile name, when WhatsApp sends it. */
  name: string | undefined;
  text: string;
}

/** The webhook body is not a WhatsApp Cloud API notification. */
export class PayloadError extends Error {
  override readonly name = "PayloadError";
}

/**
 * Extracts the text messages from a WhatsApp Cloud API webhook notification. One delivery can
 * carry several messages from several users. Status updates and non-text messages are skipped;
 * anything not shaped like a notification is a `PayloadError`.
 */
export function parseNotification(body: unknown): IncomingMessage[] {
  if (!isObject(body) || body.object !== "whatsapp_business_account" || !Array.isArray(body.entry)) {
    throw new PayloadError('expected a WhatsApp notification: { object: "whatsapp_business_account", entry: [...] }');
  }
  const messages: IncomingMessage[] = [];
  for (const entry of body.entry) {
    if (!isObject(entry) || !Array.isArray(entry.changes)) throw new PayloadError("entry[].changes must be an array");
    for (const change of entry.changes) {
      if (!isObject(change) || !isObject(change.value)) throw new PayloadError("changes[].value must be an object");
      if (change.field !== "messages") continue;
      const contacts = Array.isArray(change.value.contacts) ? change.value.contacts : [];
      for (const message of Array.isArray(change.value.messages) ? change.value.messages : []) {
        if (!isObject(message) || typeof message.id !== "string" || typeof message.from !== "string") {
          throw new PayloadError("messages[] need string id and from");
        }
        if (message.type !== "text" || !isObject(message.text) || typeof message.text.body !== "string") continue;
        messages.push({
          id: message.id,
          from: message.from,
          name: contactName(contacts, message.from),
          text: message.text.body,
        });
      }
    }
  }
  return messages;
}

function contactName(contacts: unknown[], waId: string): string | undefined {
  for (const contact of contacts) {
    if (
      isObject(contact) &&
      contact.wa_id === waId &&
      isObject(contact.profile) &&
      typeof contact.profile.name === "string"
    ) {
      return contact.profile.name;
    }
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
