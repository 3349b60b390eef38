import { setTracingDisabled } from "@openai/agents";
import { expect, it, vi } from "vitest";
import { startLocalReporting } from "./reporting.js";
import { runDemo } from "./story.js";

it("tells the origin's agent examples offline, with the right sessions", async () => {
  setTracingDisabled(true);
  const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
  const lines: string[] = [];
  // One batch for the scenario's 4 records, however slow the machine: they go out on the flush.
  const reporting = await startLocalReporting({ flushInterval: 60 });
  try {
    await runDemo((line) => lines.push(line), "offline", reporting);
  } finally {
    await reporting.stop();
  }
  const output = lines.join("\n");

  // 1. basic: anonymous fallback (warned once), same session within 120 s, new after 150 s, new after close
  expect(output).toContain("(no user id)                   -> demo-anonymous-20250107-120000");
  expect(warn).toHaveBeenCalledTimes(1);
  expect(output).toContain(
    "12:00:30  user-123: Thanks!                -> demo-user-123-20250107-120000 (same session)",
  );
  expect(output).toContain("-> demo-user-123-20250107-120300 (new session: quiet 150 s > 120 s)");
  expect(output).toMatch(/closeSession\("user-123"\) -> demo-user-123-20250107-120300-\d/);
  // 2. interleaved WhatsApp users: 3 users, 3 sessions, each renewed by its own messages only
  expect(output).toContain(
    "T=10s whatsapp-5511888888888  customer-support-whatsapp-5511888888888-20250107-120002  (duration 8 s",
  );
  expect(output).toContain("Result: 3 users, 3 separate sessions, 5 messages");
  // 3. concurrent runs never mix
  expect(output).toContain("12 runs -> 4 sessions, 0 records in another user's session");
  expect(output).toContain("ana    3 runs in customer-support-ana-20250107-120000");
  // 4. custom timeouts
  expect(output).toMatch(/quick support \(60 s\)\s+quiet {2}30 s -> same session/);
  expect(output).toMatch(/quick support \(60 s\)\s+quiet {2}90 s -> new session/);
  expect(output).toMatch(/live chat \(30 s\)\s+quiet {2}40 s -> new session/);
  expect(output).toMatch(/data analysis \(600 s\)\s+quiet 300 s -> same session/);
  // 5. triage -> specialist inside one session, with records
  expect(output).toContain("Billing Support: I see a duplicate charge of $9.90 on Jan 3; I've refunded it.");
  expect(output).toContain(
    'record: session multi-agent-support-customer-42-20250107-120000 | Triage Agent -> Billing Support | tools: lookup_charges -> "current customer: 2 charges',
  );
  expect(output).toContain("| Triage Agent -> Tech Support |");
  expect(output).toContain("| no handoff |");
  // 6. memory within the session, none for another user, none after expiry
  expect(output).toMatch(/12:00:30 {2}ana: {3}What's my name\? {2}-> Your name is Ana\./);
  expect(output).toMatch(/bruno: What's my name\? {2}-> I don't know your name yet\./);
  expect(output).toMatch(
    /12:02:31 {2}ana: {3}What's my name\? {2}-> I don't know your name yet\. +\[assistant-ana-20250107-120231\]/,
  );
  // 7. carry-over: the new session starts with the summary of the ended one, so the name survives
  expect(output).toContain(
    '(assistant-ana-20250107-120000 ended; its 4 items summarized: "The user\'s name is Ana. They sent 2 messages last time.")',
  );
  expect(output).toMatch(
    /12:02:31 {2}ana: {3}What's my name\? {2}-> Your name is Ana\. +\[assistant-ana-20250107-120231\]/,
  );
  // 8. records through the sink to the local receiver, spans over OTLP, all grouped by session
  expect(output).toMatch(
    /records -> http:\/\/127\.0\.0\.1:\d+\/records: 4 records in 1 batch \(0 duplicates, 0 reported dropped\)/,
  );
  expect(output).toMatch(
    /spans {3}-> http:\/\/127\.0\.0\.1:\d+\/v1\/traces: 12 spans, 12 with session\.id and user\.id/,
  );
  expect(output).toContain("whatsapp/ana/whatsapp-ana-20250107-120000: 2 records, 2 traces, 7 spans");
  expect(output).toContain("whatsapp/bruno/whatsapp-bruno-20250107-120005: 1 record, 1 trace, 3 spans");
  expect(output).toContain("whatsapp/ana/whatsapp-ana-20250107-120320: 1 record, 1 trace, 2 spans");
  expect(reporting.records.lastAuthorization).toBe("Bearer demo-token");
  warn.mockRestore();
});
