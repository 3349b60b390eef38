import { expect, it } from "vitest";
import { runQuickstart } from "./story.js";

it("tells the guide's story with the guide's ids", async () => {
  const lines: string[] = [];
  await runQuickstart((line) => lines.push(line));
  const output = lines.join("\n");

  // 1. lifecycle: 00:00 new, 00:30 same, 03:00 new
  expect(output).toContain("12:00:00  user-123 says hello           -> support-user-123-20250107-120000 (new session)");
  expect(output).toContain("12:00:30  user-123 asks a follow-up     -> support-user-123-20250107-120000 (same session");
  expect(output).toContain("12:03:00  user-123 comes back later     -> support-user-123-20250107-120300 (new session");
  // 2. isolation, including the WhatsApp-style id and another namespace
  expect(output).toContain("-> whatsapp-5511999999999-20250107-120000");
  expect(output).toContain("leaves 5511999999999 in whatsapp-5511999999999-20250107-120000");
  expect(output).toContain('namespace "sales" is a different conversation: sales-5511999999999-');
  // 3. custom timeouts
  expect(output).toMatch(/quick chat \(30 s\)\s+after\s+60 s quiet -> new session/);
  expect(output).toMatch(/support \(300 s\)\s+after\s+60 s quiet -> same session/);
  expect(output).toMatch(/support \(300 s\)\s+after 400 s quiet -> new session/);
  expect(output).toMatch(/long tasks \(600 s\)\s+after 400 s quiet -> same session/);
  // 4. closing forces a new id within the same second
  expect(output).toContain("the next message gets support-user-123-20250107-120000-2 (a new id");
  // 5. cleanup
  expect(output).toContain("cleanupExpired() removed 2 sessions; carla's is still live (idle 30 s, 30 s old)");
  // 6. lifecycle: start, renew, turns, max duration, quiet -> expired, history, forget
  const lifecycle = output.slice(output.indexOf("6. A session's life"));
  expect(lifecycle).toContain(
    "     onSessionStart: support-ana-20250107-120000\n   12:00:00  ana says hi            -> support-ana-20250107-120000 (new), turn 1, live until 12:02:00",
  );
  expect(lifecycle).toContain(
    "12:04:00  ana keeps talking      -> support-ana-20250107-120000 (renewed), turn 5, live until 12:05:00",
  );
  expect(lifecycle).toContain(
    [
      '     onSessionEnd:   support-ana-20250107-120000 ended "max-duration" at 12:05:00 after 5 turns',
      "     onSessionStart: support-ana-20250107-120500 (replaces support-ana-20250107-120000)",
    ].join("\n"),
  );
  expect(lifecycle).toContain(
    [
      '     onSessionEnd:   support-ana-20250107-120500 ended "expired" at 12:07:00 after 1 turn',
      "   cleanupExpired() -> 1",
      '   listSessions({ userId: "ana", status: "all" }) -> 2 sessions',
      '     support-ana-20250107-120500  ended "expired" at 12:07:00, 1 turn',
      '     support-ana-20250107-120000  ended "max-duration" at 12:05:00, 5 turns',
    ].join("\n"),
  );
  expect(lifecycle).toContain("     support-ana-20250107-121000  active, 1 turn");
  expect(lifecycle).toContain(
    [
      '     onSessionEnd:   support-ana-20250107-121000 ended "forgotten" at 12:10:00 after 1 turn',
      '   forgetUser("ana") -> removed 3 sessions',
      '   listSessions({ userId: "ana", status: "all" }) -> 0 sessions',
    ].join("\n"),
  );
});
