import type { SessionErrorCode } from "../errors.js";
import { MAX_ID_LENGTH } from "../validation.js";

/**
 * Legal user ids and namespaces that break naive stores: separators, glob and hash-tag
 * characters, prototype keys, Unicode, whitespace inside, the longest allowed id. Every store
 * must keep each one apart from the others and return it unchanged.
 */
export const hostileIds: readonly string[] = [
  "__proto__",
  "constructor",
  "a:b",
  "a*",
  "*",
  "{tag}",
  "}{",
  "a/b\\c",
  "ação-🙂",
  "x y",
  " leading-space",
  "tab\there",
  "line\nbreak",
  "percent%20encoded",
  "null\u0000byte",
  "'; DROP TABLE sessions; --",
  "5511999999999",
  "a".repeat(MAX_ID_LENGTH),
  "🙂".repeat(MAX_ID_LENGTH / 2),
];

/** Values that must be rejected as user ids, with the error code they must get. */
export const invalidUserIds: ReadonlyArray<{ value: unknown; code: SessionErrorCode; label: string }> = [
  { label: "empty string", value: "", code: "INVALID_USER_ID" },
  { label: "spaces only", value: "   ", code: "INVALID_USER_ID" },
  { label: "tabs and newlines only", value: "\t\n", code: "INVALID_USER_ID" },
  { label: "no-break spaces only", value: "\u00a0\u2003", code: "INVALID_USER_ID" },
  { label: "too long", value: "a".repeat(MAX_ID_LENGTH + 1), code: "INVALID_USER_ID" },
  { label: "lone surrogate", value: "a\ud800b", code: "INVALID_USER_ID" },
  { label: "number", value: 123, code: "INVALID_USER_ID" },
  { label: "undefined", value: undefined, code: "INVALID_USER_ID" },
  { label: "null", value: null, code: "INVALID_USER_ID" },
  { label: "object", value: { id: "x" }, code: "INVALID_USER_ID" },
];
