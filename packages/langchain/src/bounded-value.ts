/**
 * `value` itself when its JSON is at most about `maxLength` characters; otherwise the first
 * `maxLength` characters of its JSON and a note. Records and the state of runs in flight hold
 * only bounded values, so a huge input (or an abandoned stream's) cannot grow the process.
 */
export function boundedValue(value: unknown, maxLength: number): unknown {
  if (typeof value === "string") return value.length <= maxLength ? value : truncated(value, maxLength);
  try {
    if (fitsWithin(value, maxLength)) return value;
  } catch {
    // A getter threw while measuring: keep the text form below rather than the live object.
  }
  return truncated(jsonOf(value), maxLength);
}

/** `text`, cut to `maxLength` characters with a note when longer. */
export function boundedText(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : truncated(text, maxLength);
}

function truncated(text: string, maxLength: number): string {
  return `${text.slice(0, maxLength)}… [truncated by threadline: ${text.length} characters]`;
}

// An estimate of the JSON size that stops as soon as it is over the budget, so measuring a
// huge value costs no more than a small one. Every value visited costs at least one unit,
// which also ends the walk on cyclic objects.
function fitsWithin(value: unknown, budget: number): boolean {
  const pending: unknown[] = [value];
  let left = budget;
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === "string") left -= next.length + 2;
    else if (typeof next === "object" && next !== null) {
      left -= 2;
      for (const key in next) {
        left -= key.length + 4;
        if (left < 0) return false;
        pending.push((next as Record<string, unknown>)[key]);
      }
    } else left -= 8;
    if (left < 0) return false;
  }
  return true;
}

function jsonOf(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
