/**
 * The longest value, in characters of JSON, that threadline adapters keep in a record or in the
 * state of a run in flight by default. Adapters may let users change it (`maxValueLength`).
 */
export const DEFAULT_MAX_VALUE_LENGTH = 16_384;

/** The most tool calls an adapter keeps in one run's record by default; later ones are left out. */
export const DEFAULT_MAX_TOOL_CALLS_PER_RUN = 50;

/**
 * `value` itself when its JSON is at most about `maxLength` characters; otherwise the start of
 * its JSON and a note. Records and the state of runs in flight hold only bounded values, so a
 * huge input (or an abandoned stream's) cannot grow the process. Measuring and cutting cost in
 * proportion to `maxLength`, not to the value.
 */
export function boundedValue(value: unknown, maxLength: number): unknown {
  if (typeof value === "string") return boundedText(value, maxLength);
  try {
    return fitsWithin(value, maxLength) ? value : boundedText(previewJson(value, maxLength), maxLength);
  } catch {
    return "[threadline: a value that could not be read as JSON was left out]";
  }
}

/** `text`, cut to `maxLength` characters with a note when longer. */
export function boundedText(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength)}… [truncated by threadline]`;
}

// An estimate of the JSON size that stops as soon as it is over the budget. Every value visited
// costs at least one unit, which also ends the walk on cyclic objects.
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

// JSON with every string and array cut to `maxLength`, and everything after the first
// `maxLength` characters left out, so a megabyte string is never serialized whole.
function previewJson(value: unknown, maxLength: number): string {
  let left = maxLength;
  const json = JSON.stringify(value, (_key, part: unknown) => {
    if (left <= 0) return undefined;
    if (typeof part === "string") {
      left -= part.length;
      return part.length > maxLength ? part.slice(0, maxLength) : part;
    }
    left -= 8;
    return Array.isArray(part) && part.length > maxLength ? part.slice(0, maxLength) : part;
  });
  return json ?? String(value);
}
