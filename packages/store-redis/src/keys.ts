// Redis keys for a (namespace, userId) pair.
//
//   session hash:  {keyPrefix}s:{<n>:<namespace>:<userId>}
//   items list:    {keyPrefix}i:{<n>:<namespace>:<userId>}
//   operations:    {keyPrefix}o:{<n>:<namespace>:<userId>}   the items' byte total, newest group, operation ids
//   history list:  {keyPrefix}h:{<n>:<namespace>:<userId>}
//   run records:   {keyPrefix}r:{<n>:<namespace>:<userId>}<sessionId>   one hash per session with runs
//
// and the keys the pairs of one Cluster slot share (see `slotKeys`):
//
//   expiry index:  {keyPrefix}x            single node: one sorted set of every pair
//                  {keyPrefix}x:{<slot>}   cluster: one per slot, `<slot>` a short string that hashes to it
//   forgotten:     {keyPrefix}f / {keyPrefix}f:{<slot>}   id high-water marks of forgotten pairs
//
// The part in braces is the Redis Cluster hash tag, identical in a pair's keys, so every script
// (which touches several) stays within one slot. Inside it, `%`, `{` and `}` are percent-escaped:
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

/** The keys of a pair, and its hash tag (its member in the expiry index). */
export interface PairKeys {
  tag: string;
  session: string;
  items: string;
  operations: string;
  history: string;
}

/** Builds the keys of a pair under a prefix (the prefix is validated brace-free by the store). */
export function pairKeys(keyPrefix: string, namespace: string, userId: string): PairKeys {
  return keysOfTag(keyPrefix, hashTag(namespace, userId));
}

/** The keys of the pair whose hash tag is `tag`. */
export function keysOfTag(keyPrefix: string, tag: string): PairKeys {
  return {
    tag,
    session: `${keyPrefix}s:{${tag}}`,
    items: `${keyPrefix}i:{${tag}}`,
    operations: `${keyPrefix}o:{${tag}}`,
    history: `${keyPrefix}h:{${tag}}`,
  };
}

/**
 * The run records hash of one session of the pair whose hash tag is `tag`. The session id follows
 * the hash tag as it is: Redis Cluster hashes only up to the first `}`, and the tag holds none, so
 * any id stays in the pair's slot and the key stays injective.
 */
export function runsKey(keyPrefix: string, tag: string, sessionId: string): string {
  return `${keyPrefix}r:{${tag}}${sessionId}`;
}

/** The (namespace, userId) of a hash tag, or `undefined` when it is not one {@link hashTag} makes. */
export function parseHashTag(tag: string): SessionPair | undefined {
  const colon = tag.indexOf(":");
  const length = Number(tag.slice(0, colon));
  if (colon < 1 || !Number.isInteger(length) || tag[colon + 1 + length] !== ":") return undefined;
  return {
    namespace: unescapePart(tag.slice(colon + 1, colon + 1 + length)),
    userId: unescapePart(tag.slice(colon + 2 + length)),
  };
}

/** The keys every pair of one slot shares: the expiry index and the forgotten pairs' id high-water marks. */
export interface SlotKeys {
  index: string;
  forgotten: string;
}

/** Where the shared keys of a pair's slot are: one pair of keys on a single node, one per slot on a cluster. */
export interface SlotKeyring {
  /** The shared keys of the slot `tag` hashes to. */
  ofTag(tag: string): SlotKeys;
  /** Whether there is one set of shared keys per slot (a cluster) or one in all (a single node). */
  readonly cluster: boolean;
  /** The shared keys of a slot (cluster), or the only ones (single node). */
  ofSlot(slot: number): SlotKeys;
}

/** The shared keys under a prefix, for a single node (`cluster` false) or a cluster. */
export function slotKeyring(keyPrefix: string, cluster: boolean): SlotKeyring {
  if (!cluster) {
    const keys: SlotKeys = { index: `${keyPrefix}x`, forgotten: `${keyPrefix}f` };
    return { cluster, ofTag: () => keys, ofSlot: () => keys };
  }
  const cache = new Map<number, SlotKeys>();
  const ofSlot = (slot: number): SlotKeys => {
    let keys = cache.get(slot);
    if (keys === undefined) {
      const tag = slotTags()[slot] as string;
      keys = { index: `${keyPrefix}x:{${tag}}`, forgotten: `${keyPrefix}f:{${tag}}` };
      cache.set(slot, keys);
    }
    return keys;
  };
  return { cluster, ofTag: (tag) => ofSlot(hashSlot(tag)), ofSlot };
}

/** Redis Cluster's slot count. */
export const SLOTS = 16_384;

// CRC16-CCITT (XMODEM), the hash Redis Cluster maps keys to slots with.
const crcTable = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (crcTable[((crc >> 8) ^ byte) & 0xff] as number);
  return crc;
}

const encoder = new TextEncoder();

/** The Cluster slot of a key whose hash tag is `tag` (a tag without braces). */
export function hashSlot(tag: string): number {
  return crc16(encoder.encode(tag)) & (SLOTS - 1);
}

let tagsBySlot: string[] | undefined;

/**
 * For every slot, a short string (up to 4 characters of [0-9a-z]) that hashes to it: the hash
 * tag of that slot's shared keys. Computed once, on first use of a cluster (tens of ms).
 */
export function slotTags(): readonly string[] {
  if (tagsBySlot !== undefined) return tagsBySlot;
  const tags: Array<string | undefined> = new Array(SLOTS);
  let missing = SLOTS;
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  const visit = (candidate: string) => {
    const slot = hashSlot(candidate);
    if (tags[slot] === undefined) {
      tags[slot] = candidate;
      missing--;
    }
  };
  for (const a of alphabet) visit(a);
  for (const a of alphabet) for (const b of alphabet) visit(a + b);
  for (const a of alphabet) for (const b of alphabet) for (const c of alphabet) visit(a + b + c);
  for (let length = 4; missing > 0; length++) {
    // Three characters leave a few slots uncovered; four-character strings fill them.
    for (let n = 0; missing > 0 && n < 36 ** length; n++) visit(n.toString(36).padStart(length, "0"));
  }
  tagsBySlot = tags as string[];
  return tagsBySlot;
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
    return parseHashTag(key.slice(head.length, -1));
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
