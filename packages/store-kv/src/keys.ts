import { SessionError } from "@threadline/session-core";

/** Workers KV rejects keys longer than this many bytes (UTF-8). */
export const KV_MAX_KEY_BYTES = 512;

/** Longest accepted `keyPrefix`, in UTF-8 bytes, so every key still fits in {@link KV_MAX_KEY_BYTES}. */
export const MAX_KEY_PREFIX_BYTES = 128;

// A hashed part is "#" + 64 hex digits.
const HASHED_PART_LENGTH = 65;

/**
 * The storage key of a (namespace, userId) pair: `{prefix}{namespace part}:{user part}`.
 *
 * Each part is the id through `encodeURIComponent`, which never emits ":" or "#", so the two
 * parts can always be told apart and distinct pairs never share a key. A part that would push
 * the key past KV's 512-byte limit becomes "#" + SHA-256 (hex) of its encoding instead: never
 * truncated, and a hashed part cannot equal a plain one because only hashed parts start with
 * "#". The namespace part depends on the namespace alone (plain up to the bytes left after the
 * prefix and a hashed user part), so one prefix lists a whole namespace.
 */
export async function sessionKey(prefix: string, namespace: string, userId: string): Promise<string> {
  const namespacePart = await namespaceKeyPart(prefix, namespace);
  const encodedUser = encodeURIComponent(userId);
  const plainLength = byteLength(prefix) + namespacePart.length + 1 + encodedUser.length;
  const userPart = plainLength <= KV_MAX_KEY_BYTES ? encodedUser : await hashedPart(encodedUser);
  return `${prefix}${namespacePart}:${userPart}`;
}

/** The namespace part of every key of `namespace` (see {@link sessionKey}); `{prefix}{part}:` prefixes them all. */
export async function namespaceKeyPart(prefix: string, namespace: string): Promise<string> {
  const encoded = encodeURIComponent(namespace);
  const room = KV_MAX_KEY_BYTES - byteLength(prefix) - 1 - HASHED_PART_LENGTH;
  return encoded.length <= room ? encoded : hashedPart(encoded);
}

/** Throws `INVALID_OPTION` unless `prefix` is a string short enough to leave room for any key. */
export function assertKeyPrefix(prefix: unknown, source: string): asserts prefix is string {
  if (typeof prefix !== "string" || byteLength(prefix) > MAX_KEY_PREFIX_BYTES) {
    throw new SessionError({
      code: "INVALID_OPTION",
      source,
      message: `keyPrefix must be a string of at most ${MAX_KEY_PREFIX_BYTES} bytes (UTF-8), so every key fits in KV's ${KV_MAX_KEY_BYTES}-byte limit.`,
    });
  }
}

async function hashedPart(encoded: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(encoded));
  let hex = "#";
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}
