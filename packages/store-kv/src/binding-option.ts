import { SessionError } from "@threadline/session-core";
import { describeValue } from "@threadline/session-core/store-kit";

/** A store factory's binding option, for {@link bindingOption}'s checks and messages. */
export interface BindingOption<T> {
  /** Its name, e.g. `"binding"`. */
  name: string;
  /** What to write, e.g. `kvStore({ binding: env.SESSIONS })`. */
  call: string;
  /** What the binding is and where it is configured, for the message. */
  kind: string;
  isBinding(value: unknown): value is T;
}

/**
 * The binding in a store factory's options, or `INVALID_OPTION` saying what to write. Names the
 * usual slips: no options (`kvStore()`) and the binding where the options belong (`kvStore(env.SESSIONS)`).
 */
export function bindingOption<T>(options: unknown, option: BindingOption<T>, source: string): T {
  const fail = (problem: string) =>
    new SessionError({ code: "INVALID_OPTION", source, message: `${problem} Write ${option.call}.` });
  if (option.isBinding(options)) throw fail(`The binding goes inside the options, as \`${option.name}\`.`);
  const value = typeof options === "object" && options !== null ? Reflect.get(options, option.name) : options;
  if (!option.isBinding(value)) throw fail(`${option.name} must be ${option.kind}, got ${describeValue(value)}.`);
  return value;
}
