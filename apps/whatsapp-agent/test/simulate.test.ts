import { expect, it } from "vitest";
import { simulate } from "../src/simulate.js";

it("the simulation shows one session per phone number, memory, dedupe and rollover", async () => {
  const lines: string[] = [];
  await simulate((line) => lines.push(line));
  const output = lines.join("\n");
  for (const number of ["5511999999999", "5521988888888", "5531977777777"]) {
    const sessions = new Set(output.match(new RegExp(`whatsapp-${number}-\\d{8}-\\d{6}`, "g")));
    expect(sessions.size).toBe(number === "5511999999999" ? 2 : 1); // Ana's expires once
  }
  expect(output).toContain("Billing here. I can see your 1 earlier message in this conversation.");
  expect(output).toMatch(/delivered again -> duplicate/);
  expect(output).toContain(
    `session whatsapp-5511999999999-20250107-120320: Billing here. This is a new conversation; my note from the last one: the user last wrote "my bill charged me twice"; we answered "Billing here. I can see your 1 earlier message in this conversation.".`,
  );
  // Each two-message conversation ended quietly and got one survey, before Ana's new conversation.
  for (const name of ["Ana", "Bruno", "Carla"]) {
    expect(output).toContain(
      `survey -> ${name}: Thanks for talking with us (2 messages)! How did we do? Reply with a number from 1 (poor) to 5 (great).`,
    );
  }
  expect(output.match(/survey ->/g)).toHaveLength(3);
  expect(output.indexOf("survey -> Ana")).toBeLessThan(output.indexOf("Then Ana writes again"));
});
