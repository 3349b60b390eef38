import { SessionError } from "@threadline/session-core";
import { describeValue } from "@threadline/session-core/store-kit";

/** How a store factory names its binding option, for {@link bindingOption}'s messages. */
export interface BindingSpec<T> {
  source: string;
  /** The factory and option as a user writes them: `kvStore({ binding: env.SESSIONS })`. */
  factory: string;
  option: string;
  example: string;
  /** What the binding is and where it is configured, e.g. `"a Workers KV namespace binding (kv_namespaces in your wrangler config)"`. */
  kind: string;
  isBinding(value: unknown): value is T;
}

/**
 * The binding option of a store factory, or `INVALID_OPTION` saying what to write. Catches the
 * usual slips by name: no options (`kvStore()`) and the binding passed where the options belong
 * (`kvStore(env.SESSIONS)`).
 */
export function bindingOption<T>(options: unknown, spec: BindingSpec<T>): T {
  const call = `${spec.factory}({ ${spec.option}: ${spec.example} })`;
  const fail = (problem: string) =>
    new SessionError({
      code: "INVALID_OPTION",
      source: spec.source,
      message: `${problem} Write ${call} (in Hono: c.${spec.example}).`,
    });
  if (spec.isBinding(options)) throw fail(`The binding goes inside the options object, as \`${spec.option}\`.`);
  if (typeof options !== "object" || options === null) {
    throw fail(`${spec.factory} needs an options object with \`${spec.option}\`, got ${describeValue(options)}.`);
  }
  const value = (options as Record<string, unknown>)[spec.option];
  if (!spec.isBinding(value)) throw fail(`${spec.option} must be ${spec.kind}, got ${describeValue(value)}.`);
  return value;
}
