const encoder = new TextEncoder();

/**
 * Checks WhatsApp's `X-Hub-Signature-256` header (`sha256=<hex HMAC-SHA256 of the raw body,
 * keyed with the app secret>`). Uses Web Crypto, so it runs on Node, Bun, Deno and Workers,
 * and compares in constant time.
 */
export async function isValidSignature(
  appSecret: string,
  rawBody: string,
  header: string | undefined,
): Promise<boolean> {
  if (header === undefined || !header.startsWith("sha256=")) return false;
  const expected = await hmacSha256Hex(appSecret, rawBody);
  return constantTimeEqual(header.slice("sha256=".length).toLowerCase(), expected);
}

/** The hex HMAC-SHA256 of `body` keyed with `secret`, as WhatsApp computes it. */
export async function hmacSha256Hex(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
  return Array.from(signature, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let index = 0; index < a.length; index++) difference |= a.charCodeAt(index) ^ b.charCodeAt(index);
  return difference === 0;
}
