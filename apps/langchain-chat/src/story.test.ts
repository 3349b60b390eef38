import { expect, it } from "vitest";
import { runLangChainChat } from "./story.js";

it("gives each user session-scoped memory in the chain and in the LangGraph agent", async () => {
  const lines: string[] = [];
  const records = await runLangChainChat((line) => lines.push(line));
  const output = lines.join("\n");

  // Chain: the second message sees the first; bob never sees ada's; after 150 s ada starts afresh.
  expect(output).toMatch(
    /12:00:00 {2}ada {2}"My name is Ada\." +-> support-ada-20250107-120000 \(new session\), prompt carried no earlier messages/,
  );
  expect(output).toMatch(
    /12:00:30 {2}ada {2}"What is my name\?" +-> support-ada-20250107-120000 \(same session\), prompt carried 2 earlier messages, starting with "My name is Ada\."/,
  );
  expect(output).toMatch(
    /12:00:30 {2}bob {2}"What is my name\?" +-> support-bob-20250107-120030 \(new session\), prompt carried no earlier messages/,
  );
  expect(output).toMatch(
    /12:03:00 {2}ada {2}"What is my name\?" +-> support-ada-20250107-120300 \(new session\), prompt carried no earlier messages/,
  );

  // Agent: one checkpointer thread per session.
  // The thread is the session's global id: {namespace}/{user}/{session id}, unique per user.
  expect(output).toMatch(
    /12:10:00 {2}ada .* -> thread support\/ada\/support-ada-20250107-121000 \(fresh thread\), now 2 messages/,
  );
  expect(output).toMatch(
    /12:11:00 {2}ada .* -> thread support\/ada\/support-ada-20250107-121000 \(2 earlier messages\), now 4 messages/,
  );
  expect(output).toMatch(
    /12:11:00 {2}bob .* -> thread support\/bob\/support-bob-20250107-121100 \(fresh thread\), now 2 messages/,
  );
  expect(output).toMatch(
    /12:14:00 {2}ada .* -> thread support\/ada\/support-ada-20250107-121400 \(fresh thread\), now 2 messages/,
  );

  // One record per run, each in its own user's session.
  expect(records.map((record) => `${record.userId} ${record.sessionId} ${record.name}`)).toEqual([
    "ada support-ada-20250107-120000 RunnableSequence",
    "ada support-ada-20250107-120000 RunnableSequence",
    "bob support-bob-20250107-120030 RunnableSequence",
    "ada support-ada-20250107-120300 RunnableSequence",
    "ada support-ada-20250107-121000 LangGraph",
    "ada support-ada-20250107-121000 LangGraph",
    "bob support-bob-20250107-121100 LangGraph",
    "ada support-ada-20250107-121400 LangGraph",
  ]);
  expect(output).toContain("3. One record per run from the callback handler (8 runs)");
});
