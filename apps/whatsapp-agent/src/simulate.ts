// Several phone numbers chat with the bot at once, through real HTTP on loopback with signed
// deliveries, on a simulated clock; prints who got which session.
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createFakeClock } from "@threadline/session-core/fake-clock";
import { createWhatsAppApp, type DeliveryResult } from "./app.js";
import { createBot } from "./bot.js";
import { hmacSha256Hex } from "./signature.js";
import { sessionEndSurvey } from "./survey.js";

const appSecret = "simulation-secret";

export async function simulate(print: (line: string) => void): Promise<void> {
  const clock = createFakeClock();
  const replies = new Map<string, string>();
  const surveys: Array<{ to: string; text: string }> = [];
  const sendReply = async (to: string, text: string) => {
    replies.set(to, text);
  };
  // The survey goes out through the same send path as replies; here it is collected to print.
  const bot = createBot({
    now: clock.now,
    onSessionEnd: sessionEndSurvey({ send: async (to, text) => void surveys.push({ to, text }) }),
  });
  const app = createWhatsAppApp({ verifyToken: "simulation", appSecret, respond: bot.respond, send: sendReply });
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  let messageNumber = 0;

  async function send(from: string, name: string, text: string, messageId = `wamid.sim${++messageNumber}`) {
    const body = JSON.stringify({
      object: "whatsapp_business_account",
      entry: [
        {
          id: "sim",
          changes: [
            {
              field: "messages",
              value: {
                contacts: [{ wa_id: from, profile: { name } }],
                messages: [{ from, id: messageId, timestamp: "0", type: "text", text: { body: text } }],
              },
            },
          ],
        },
      ],
    });
    const response = await fetch(`http://127.0.0.1:${port}/webhook`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-hub-signature-256": `sha256=${await hmacSha256Hex(appSecret, body)}`,
      },
      body,
    });
    const [result] = ((await response.json()) as { results: DeliveryResult[] }).results;
    return { ...(result as DeliveryResult), reply: replies.get(from) };
  }

  const people = [
    { from: "5511999999999", name: "Ana", messages: ["oi", "my bill charged me twice"] },
    { from: "5521988888888", name: "Bruno", messages: ["hello", "the app shows an error at login"] },
    { from: "5531977777777", name: "Carla", messages: ["can I pay by pix?", "and a refund for last month?"] },
  ];
  print("Three people write at the same time (simulated clock, real HTTP on loopback):");
  let anasLastMessageId = "";
  for (let turn = 0; turn < 2; turn++) {
    clock.advance(turn === 0 ? 0 : 20);
    const results = await Promise.all(
      people.map((person) => send(person.from, person.name, person.messages[turn] as string)),
    );
    for (const [index, result] of results.entries()) {
      const person = people[index] as (typeof people)[number];
      print(`  ${person.name.padEnd(5)} (${person.from}) "${person.messages[turn]}"`);
      print(`        session ${result.sessionId}: ${result.reply}`);
      if (person.name === "Ana") anasLastMessageId = result.messageId;
    }
  }

  print("WhatsApp retries a delivery: the repeat is recognised and not answered again:");
  const retried = await send("5511999999999", "Ana", "my bill charged me twice", anasLastMessageId);
  print(`  Ana's "my bill charged me twice" (${anasLastMessageId}) delivered again -> ${retried.status}`);

  clock.advance(180);
  print("Three quiet minutes: the server's sweep finds the conversations ended, and each person gets a survey:");
  await bot.hooks.sessionManager.cleanupExpired(); // what the server does every 30 s
  await bot.hooks.flush();
  for (const survey of surveys) {
    const person = people.find((candidate) => candidate.from === survey.to);
    print(`  survey -> ${person?.name ?? survey.to}: ${survey.text}`);
  }

  print("Then Ana writes again, in a new conversation that starts from a digest of the last one (carry-over):");
  const later = await send("5511999999999", "Ana", "one more billing question");
  print(`  Ana  session ${later.sessionId}: ${later.reply}`);

  server.close();
  await bot.hooks.flush();
}

if (import.meta.url === `file://${process.argv[1]}`) await simulate((line) => console.log(line));
