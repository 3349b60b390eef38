// Redis keys for a (namespace, userId) pair.
//
//   session hash:  {keyPrefix}s:{<n>:<namespace>:<userId>}
//   items list:    {keyPrefix}i:{<n>:<namespace>:<userId>}
//
// The part in braces is the Redis Cluster hash tag, identical in both keys, so every script
// (which touches both) stays within one slot. Inside it, `%`, `{` and `}` are percent-escaped:
// a `}` from a user id would otherwise end the hash tag early and pile unrelated users into
// one slot. `<n>` is the length of the escaped namespace, which makes the encoding injective:
// ("a-b", "c") and ("a", "b-c") or ("a:b", "c") and ("a", "b:c") can never share a key.

const needsEscape = /[%{}]/;
const escapable = /[%{}]/g;
const escapes: Record<string, string> = { "%": "%25", "{": "%7B", "}": "%7D" };
const escapedSequence = /%(25|7B|7D)/g;
const unescapes: Record<string, string> = { "25": "%", "7B": "{", "7D": "}" };

function escapePart(value: string): string {
  return needsEscape.test(value) ? value.replace(escapable, (character) => escapes[character] as string) : value;
}

function unescapePart(value: string): string {
  return value.includes("%") ? value.replace(escapedSequence, (_, code: string) => unescapes[code] as string) : value;
}

/** The hash tag body for a pair, without braces. Contains no `{` or `}`. */
export function hashTag(namespace: string, userId: string): string {
  const escapedNamespace = escapePart(namespace);
  return `${escapedNamespace.length}:${escapedNamespace}:${escapePart(userId)}`;
}

/** Both keys of a pair. */
export interface PairKeys {
  session: string;
  items: string;
}

/** Builds the keys of a pair under a prefix (the prefix is validated brace-free by the store). */
export function pairKeys(keyPrefix: string, namespace: string, userId: string): PairKeys {
  const tag = hashTag(namespace, userId);
  return { session: `${keyPrefix}s:{${tag}}`, items: `${keyPrefix}i:{${tag}}` };
}

/** The (namespace, userId) a session key belongs to. */
export interface SessionPair {
  namespace: string;
  userId: string;
}

/** Recovers (namespace, userId) from a session key, or `undefined` when the key is not one of ours. */
export function parseSessionKey(keyPrefix: string, key: string): SessionPair | undefined {
  return sessionKeyParser(keyPrefix)(key);
}

/**
 * {@link parseSessionKey} for one prefix, built once: listing parses every key it reads, and
 * building the head per key (a fresh concatenated string that `startsWith` has to flatten) was
 * the largest share of a page's own CPU.
 */
export function sessionKeyParser(keyPrefix: string): (key: string) => SessionPair | undefined {
  const head = `${keyPrefix}s:{`;
  return (key) => {
    if (!key.startsWith(head) || !key.endsWith("}")) return undefined;
    const tag = key.slice(head.length, -1);
    const colon = tag.indexOf(":");
    const length = Number(tag.slice(0, colon));
    if (colon < 1 || !Number.isInteger(length) || tag[colon + 1 + length] !== ":") return undefined;
    return {
      namespace: unescapePart(tag.slice(colon + 1, colon + 1 + length)),
      userId: unescapePart(tag.slice(colon + 2 + length)),
    };
  };
}

/** A SCAN MATCH pattern for the session keys of one namespace, or of all when omitted. */
export function sessionKeyPattern(keyPrefix: string, namespace?: string): string {
  if (namespace === undefined) return `${globEscape(keyPrefix)}s:{*}`;
  const escapedNamespace = escapePart(namespace);
  return `${globEscape(`${keyPrefix}s:{${escapedNamespace.length}:${escapedNamespace}:`)}*}`;
}

// Redis glob patterns treat * ? [ ] and \ specially; a backslash makes any of them literal.
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
