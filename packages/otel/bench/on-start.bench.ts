// What the span processor costs: `pnpm --filter @threadline/otel bench`.
// 1. onStart alone: the processor's onStart on fresh SDK spans (made before the timing, so every
//    call adds the attributes to a span that has none, as in real use), against a no-op
//    processor's onStart on the same kind of spans (the call itself).
// 2. A whole span: startSpan + end on a BasicTracerProvider, with a no-op processor (the baseline)
//    and with threadlineSpanProcessor in front of it, inside a session and outside one.
// Rounds interleave the variants; each cell is the median (min–max) over the rounds of the mean per
// call in that round. The overhead column compares each variant with the baseline of the same round.
import { context, ROOT_CONTEXT, type Span } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { fixed, interleaved, perRound, printTable, spread } from "@threadline/bench-kit";
import { contextWithSession, threadlineSpanProcessor, withSession } from "../src/index.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 31);
const CALLS = 20_000;
const SPANS = 20_000;
const session = { namespace: "support", userId: "user-123", sessionId: "support-user-123-20250107-120000" };

const noop: SpanProcessor = {
  onStart() {},
  onEnd() {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

// 1. onStart alone, in ns per call.
const spanTracer = new BasicTracerProvider().getTracer("bench");
const inSession = contextWithSession(ROOT_CONTEXT, session);
const plain = threadlineSpanProcessor();
const aliased = threadlineSpanProcessor({ aliases: ["langfuse", "langsmith"] });
const timeCalls = (call: (span: Span) => void) => async () => {
  const fresh: Span[] = Array.from({ length: CALLS }, () => spanTracer.startSpan("target"));
  const started = performance.now();
  for (const span of fresh) call(span);
  return ((performance.now() - started) * 1e6) / CALLS;
};
const calls = await interleaved(ROUNDS, {
  noop: timeCalls((span) => noop.onStart(span as never, inSession)),
  outside: timeCalls((span) => plain.onStart(span, ROOT_CONTEXT)),
  inside: timeCalls((span) => plain.onStart(span, inSession)),
  aliases: timeCalls((span) => aliased.onStart(span, inSession)),
});
console.log(`onStart alone (ns per call, ${CALLS.toLocaleString("en")} calls × ${ROUNDS} rounds)\n`);
const ns = fixed(0, " ns");
const extra = (values: number[]) =>
  spread(
    perRound(values, calls.noop, (value, base) => value - base),
    ns,
  );
printTable(
  ["onStart of", "per call", "over the no-op"],
  [
    ["no-op processor (baseline)", spread(calls.noop, ns), "—"],
    ["threadlineSpanProcessor, no session in the context", spread(calls.outside, ns), extra(calls.outside)],
    ["threadlineSpanProcessor, in a session", spread(calls.inside, ns), extra(calls.inside)],
    ["threadlineSpanProcessor + langfuse, langsmith aliases", spread(calls.aliases, ns), extra(calls.aliases)],
  ],
);

// 2. Whole spans, in µs per span.
const tracerWith = (processors: SpanProcessor[]) =>
  new BasicTracerProvider({ spanProcessors: processors }).getTracer("bench");
const baseline = tracerWith([noop]);
const withThreadline = tracerWith([threadlineSpanProcessor(), noop]);
const timeSpans = (tracer: ReturnType<typeof tracerWith>, inside: boolean) => async () => {
  const run = () => {
    const started = performance.now();
    for (let index = 0; index < SPANS; index++) tracer.startSpan("span").end();
    return ((performance.now() - started) * 1000) / SPANS;
  };
  return inside ? withSession(session, run) : run();
};
const spans = await interleaved(ROUNDS, {
  baseline: timeSpans(baseline, true),
  outside: timeSpans(withThreadline, false),
  inside: timeSpans(withThreadline, true),
});
console.log(`\nA whole span, startSpan + end (µs per span, ${SPANS.toLocaleString("en")} spans × ${ROUNDS} rounds)\n`);
const us = fixed(3, " µs");
const ratio = (values: number[]) => spread(perRound(values, spans.baseline), fixed(2, "×"));
printTable(
  ["provider", "per span", "vs baseline"],
  [
    ["no-op processor only (baseline), in a session", spread(spans.baseline, us), "—"],
    ["+ threadlineSpanProcessor, no session", spread(spans.outside, us), ratio(spans.outside)],
    ["+ threadlineSpanProcessor, in a session", spread(spans.inside, us), ratio(spans.inside)],
  ],
);
