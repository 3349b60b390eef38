import type { AgentInputItem, RunContext, Runner } from "@openai/agents";
import type { NamedAgent, NamedTool, RunRegistry, ToolEventDetails } from "./run-registry.js";

/** Whatever `Runner.run` accepts as its starting agent. */
export type RunnableAgent = Parameters<Runner["run"]>[0];

export const eventNames = ["agent_start", "agent_end", "agent_handoff", "agent_tool_start", "agent_tool_end"] as const;

type Listener = (...args: never[]) => void;

/** One listener per lifecycle event, kept so `detach` can remove exactly these. */
export type Listeners = Record<(typeof eventNames)[number], Listener>;

/** The `on`/`off` surface shared by `Runner` and `Agent`, with the listener types erased. */
interface Emitter {
  on(event: (typeof eventNames)[number], listener: Listener): unknown;
  off(event: (typeof eventNames)[number], listener: Listener): unknown;
}

/**
 * Runs a listener body. The SDK calls listeners synchronously inside the run and does not catch:
 * a throw here would abort the user's run, so it is reported instead.
 */
function safely(registry: RunRegistry, body: () => void): void {
  try {
    body();
  } catch (error) {
    registry.listenerFailed(error);
  }
}

/** Listeners for a Runner's events, which name the agent in their arguments. */
export function runnerListeners(registry: RunRegistry): Listeners {
  return {
    agent_start: (runContext: RunContext<unknown>, agent: NamedAgent, turnInput?: AgentInputItem[]) =>
      safely(registry, () => registry.agentStarted("runner", runContext, agent, turnInput)),
    agent_end: (runContext: RunContext<unknown>, agent: NamedAgent, output: string) =>
      safely(registry, () => registry.agentEnded(runContext, agent, output)),
    agent_handoff: (runContext: RunContext<unknown>, fromAgent: NamedAgent, toAgent: NamedAgent) =>
      safely(registry, () => registry.handedOff("runner", runContext, fromAgent, toAgent)),
    agent_tool_start: (
      runContext: RunContext<unknown>,
      agent: NamedAgent,
      tool: NamedTool,
      details?: ToolEventDetails,
    ) => safely(registry, () => registry.toolStarted("runner", runContext, agent, tool, details)),
    agent_tool_end: (
      runContext: RunContext<unknown>,
      _agent: NamedAgent,
      tool: NamedTool,
      result: string,
      details?: ToolEventDetails,
    ) => safely(registry, () => registry.toolEnded("runner", runContext, tool, result, details)),
  };
}

/** Listeners for one agent's events: the SDK leaves that agent out of most arguments. */
export function agentListeners(registry: RunRegistry, agent: NamedAgent): Listeners {
  return {
    agent_start: (runContext: RunContext<unknown>, _agent: NamedAgent, turnInput?: AgentInputItem[]) =>
      safely(registry, () => registry.agentStarted("agent", runContext, agent, turnInput)),
    agent_end: (runContext: RunContext<unknown>, output: string) =>
      safely(registry, () => registry.agentEnded(runContext, agent, output)),
    agent_handoff: (runContext: RunContext<unknown>, nextAgent: NamedAgent) =>
      safely(registry, () => registry.handedOff("agent", runContext, agent, nextAgent)),
    agent_tool_start: (runContext: RunContext<unknown>, tool: NamedTool, details?: ToolEventDetails) =>
      safely(registry, () => registry.toolStarted("agent", runContext, agent, tool, details)),
    agent_tool_end: (runContext: RunContext<unknown>, tool: NamedTool, result: string, details?: ToolEventDetails) =>
      safely(registry, () => registry.toolEnded("agent", runContext, tool, result, details)),
  };
}

export function listen(emitter: object, listeners: Listeners): void {
  for (const event of eventNames) (emitter as Emitter).on(event, listeners[event]);
}

export function unlisten(emitter: object, listeners: Listeners): void {
  for (const event of eventNames) (emitter as Emitter).off(event, listeners[event]);
}

// Runners and agents are recognised by shape, not `instanceof`: an app with two copies of
// @openai/agents (two versions, or its ESM and CommonJS builds) has two `Runner` classes, and an
// agent from one copy is not an instance of the other's `Agent`. Both are event emitters.
function isEmitter(value: unknown): value is Emitter {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Partial<Emitter>).on === "function" &&
    typeof (value as Partial<Emitter>).off === "function"
  );
}

/** An `Agent` from any copy of the SDK: an emitter with a `handoffs` list. */
export function isAgentLike(value: unknown): value is RunnableAgent {
  return isEmitter(value) && Array.isArray((value as { handoffs?: unknown }).handoffs);
}

/** A `Runner` from any copy of the SDK: an emitter with a `run` method and no handoffs. */
export function isRunnerLike(value: unknown): value is Runner {
  return isEmitter(value) && typeof (value as { run?: unknown }).run === "function" && !isAgentLike(value);
}

/** The agent and every agent reachable through handoffs (an `Agent`, or a `Handoff` wrapping one), each once. */
export function reachableAgents(start: RunnableAgent): RunnableAgent[] {
  const found = new Set<RunnableAgent>();
  const queue: RunnableAgent[] = [start];
  for (let agent = queue.pop(); agent !== undefined; agent = queue.pop()) {
    if (found.has(agent)) continue;
    found.add(agent);
    for (const handoff of agent.handoffs) {
      const next: unknown = isAgentLike(handoff) ? handoff : (handoff as { agent?: unknown }).agent;
      if (isAgentLike(next)) queue.push(next);
    }
  }
  return [...found];
}
