import { SessionManager, type SessionSummary } from "@threadline/session-core";
import { createFakeClock, type FakeClock } from "@threadline/session-core/fake-clock";

type Print = (line: string) => void;

/** `12:00:30` for a simulated time. */
function clockTime(clock: FakeClock): string {
  return new Date(clock.now()).toISOString().slice(11, 19);
}

/** The origin guide's scenarios, in order, printed as a short story. */
export async function runQuickstart(print: Print): Promise<void> {
  print("threadline quickstart: the session guide's scenarios on a simulated clock");
  print("(the clock is simulated, so minutes pass in milliseconds)");
  await oneConversation(print);
  await manyUsers(print);
  await customTimeouts(print);
  await closingASession(print);
  await cleanup(print);
  await lifecycle(print);
  print("");
  print("That's the whole model: a session follows the user while they talk and rolls over when they go quiet,");
  print("and threadline tells you when and why each one started and ended.");
}

async function oneConversation(print: Print): Promise<void> {
  const clock = createFakeClock();
  const sessions = new SessionManager({ namespace: "support", inactivityTimeout: 120, now: clock.now });
  print("");
  print("1. One user, one conversation (inactivity timeout 120 s)");

  const first = await sessions.resolve("user-123");
  print(`   ${clockTime(clock)}  user-123 says hello           -> ${first.sessionId} (new session)`);

  clock.advance(30);
  const second = await sessions.resolve("user-123");
  const same = second.sessionId === first.sessionId;
  print(
    `   ${clockTime(clock)}  user-123 asks a follow-up     -> ${second.sessionId} (${same ? "same session: active 30 s ago" : "new session"})`,
  );

  clock.advance(150);
  const third = await sessions.resolve("user-123");
  print(
    `   ${clockTime(clock)}  user-123 comes back later     -> ${third.sessionId} (${third.isNew ? "new session: quiet for 150 s, more than 120 s" : "same session"})`,
  );
}

async function manyUsers(print: Print): Promise<void> {
  const clock = createFakeClock();
  const sessions = new SessionManager({ namespace: "whatsapp", now: clock.now });
  print("");
  print("2. Many users at once: every user gets their own session");
  for (const user of ["5511999999999", "5511888888888", "alice@example.com"]) {
    print(`   ${clockTime(clock)}  ${user.padEnd(18)} -> ${await sessions.getOrCreateSession(user)}`);
    clock.advance(10);
  }
  await sessions.closeSession("5511888888888");
  const stillThere = await sessions.getSessionInfo("5511999999999");
  print(`   closing 5511888888888's session leaves 5511999999999 in ${stillThere?.sessionId ?? "no session"}`);
  const other = new SessionManager({ namespace: "sales", now: clock.now });
  print(
    `   the same phone number in namespace "sales" is a different conversation: ${await other.getOrCreateSession("5511999999999")}`,
  );
}

async function customTimeouts(print: Print): Promise<void> {
  const clock = createFakeClock();
  print("");
  print("3. Custom timeouts: each user is quiet for 60 s, then for 400 s");
  const managers = [
    {
      label: "quick chat (30 s)  ",
      sessions: new SessionManager({ namespace: "chat", inactivityTimeout: 30, now: clock.now }),
    },
    {
      label: "support (300 s)    ",
      sessions: new SessionManager({ namespace: "support", inactivityTimeout: 300, now: clock.now }),
    },
    {
      label: "long tasks (600 s) ",
      sessions: new SessionManager({ namespace: "tasks", inactivityTimeout: 600, now: clock.now }),
    },
  ];
  for (const { sessions } of managers) await sessions.getOrCreateSession("user-123");
  for (const quiet of [60, 400]) {
    clock.advance(quiet);
    for (const { label, sessions } of managers) {
      const session = await sessions.resolve("user-123");
      print(
        `   ${label} after ${String(quiet).padStart(3)} s quiet -> ${session.isNew ? "new session" : "same session"}`,
      );
    }
  }
}

async function closingASession(print: Print): Promise<void> {
  const clock = createFakeClock();
  const sessions = new SessionManager({ namespace: "support", now: clock.now });
  print("");
  print('4. Closing a session: the user says "thanks, bye" and the ticket is done');
  const before = await sessions.getOrCreateSession("user-123");
  print(`   ${clockTime(clock)}  conversation runs in          ${before}`);
  await sessions.closeSession("user-123");
  const after = await sessions.getOrCreateSession("user-123");
  print(`   ${clockTime(clock)}  closed; the next message gets ${after} (a new id, even in the same second)`);
}

async function cleanup(print: Print): Promise<void> {
  const clock = createFakeClock();
  const sessions = new SessionManager({ namespace: "support", inactivityTimeout: 120, now: clock.now });
  print("");
  print("5. Cleanup: expired sessions are removed in one call");
  await sessions.getOrCreateSession("ana");
  await sessions.getOrCreateSession("bruno");
  clock.advance(100);
  await sessions.getOrCreateSession("carla");
  clock.advance(30);
  const removed = await sessions.cleanupExpired();
  const carla = await sessions.getSessionInfo("carla");
  print(`   ${clockTime(clock)}  ana and bruno have been quiet 130 s, carla 30 s`);
  print(
    `   cleanupExpired() removed ${removed} sessions; carla's is still live (idle ${carla?.inactiveFor ?? "?"} s, ${carla?.duration ?? "?"} s old)`,
  );
}

async function lifecycle(print: Print): Promise<void> {
  const clock = createFakeClock();
  const at = (time: number) => new Date(time).toISOString().slice(11, 19);
  const sessions = new SessionManager({
    namespace: "support",
    inactivityTimeout: 120,
    maxDuration: 300, // no conversation lasts longer than 5 minutes, however active
    retention: 3600, // ended sessions stay in the user's history for an hour
    cleanupInterval: 0, // this story calls cleanupExpired() itself
    now: clock.now,
    onSessionStart: ({ session, previousSessionId }) =>
      print(`     onSessionStart: ${session.sessionId}${previousSessionId ? ` (replaces ${previousSessionId})` : ""}`),
    onSessionEnd: ({ session, reason, endedAt }) =>
      print(
        `     onSessionEnd:   ${session.sessionId} ended "${reason}" at ${at(endedAt)} after ${turns(session.turns)}`,
      ),
  });
  // The callbacks are never awaited by the calls that cause them; flush() lets the story print in order.
  const say = async (what: string) => {
    const session = await sessions.resolve("ana");
    print(
      `   ${clockTime(clock)}  ana ${what.padEnd(18)} -> ${session.sessionId} (${session.isNew ? "new" : "renewed"}), turn ${session.turns}, live until ${at(session.expiresAt)}`,
    );
    await sessions.flush();
  };
  const history = async () => {
    const { sessions: all } = await sessions.listSessions({ userId: "ana", status: "all" });
    print(`   listSessions({ userId: "ana", status: "all" }) -> ${all.length} session${all.length === 1 ? "" : "s"}`);
    for (const session of all) print(`     ${describeSummary(session, at)}`);
  };

  print("");
  print("6. A session's life: start, renew, turns, max duration, quiet -> ended, history, forget");
  print("   (inactivity timeout 120 s, maxDuration 300 s, retention 3600 s)");
  await say("says hi");
  for (let minute = 1; minute <= 4; minute++) {
    clock.advance(60);
    await say(minute === 1 ? "asks a follow-up" : "keeps talking");
  }
  clock.advance(60);
  print("   5 minutes after it started the session has reached maxDuration, active or not:");
  await say("keeps talking");

  clock.advance(180);
  print(`   ana goes quiet; at ${clockTime(clock)} a cleanup finds her session ended (a bot would send a survey now):`);
  const found = await sessions.cleanupExpired();
  await sessions.flush();
  print(`   cleanupExpired() -> ${found}`);
  await history();

  clock.advance(120);
  await say("comes back");
  await history();

  print('   ana asks to be forgotten (GDPR erasure): everything of hers in "support" goes');
  const removed = await sessions.forgetUser("ana");
  await sessions.flush();
  print(`   forgetUser("ana") -> removed ${removed} sessions`);
  await history();
}

function turns(count: number): string {
  return `${count} turn${count === 1 ? "" : "s"}`;
}

function describeSummary(session: SessionSummary, at: (time: number) => string): string {
  const state =
    session.status === "active"
      ? `active, ${turns(session.turns)}`
      : `ended "${session.endReason}" at ${at(session.endedAt ?? 0)}, ${turns(session.turns)}`;
  return `${session.sessionId.padEnd(28)} ${state}`;
}
