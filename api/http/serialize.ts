/**
 * JSON of answers. A frozen value is a cached answer, or a part of one, shared by every request and
 * never changed: its JSON is kept with it. A new version of a cached answer shares its unchanged
 * parts with the previous one (a seat map changed in one row keeps the other rows' objects), so it
 * is written by joining the kept JSON of those parts and serialising only what changed. Anything not
 * frozen is serialised as JSON.stringify does; the result is the same text JSON.stringify gives.
 */
const kept = new WeakMap<object, string>();

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;

/** JSON.stringify's rule for what an object member or an array item is left out as (or written `null` as). */
const isOmitted = (value: unknown) => value === undefined || typeof value === 'function' || typeof value === 'symbol';

export function jsonOf(value: unknown): string | undefined {
  if (!isObject(value) || !Object.isFrozen(value)) return JSON.stringify(value);
  const known = kept.get(value);
  if (known !== undefined) return known;
  const text = Array.isArray(value)
    ? `[${value.map((item) => (isOmitted(item) ? 'null' : jsonOf(item))).join(',')}]`
    : typeof (value as { toJSON?: unknown }).toJSON === 'function' || !Object.values(value).some(isObject)
      ? JSON.stringify(value)
      : `{${Object.entries(value)
          .filter(([, member]) => !isOmitted(member))
          .map(([key, member]) => `${JSON.stringify(key)}:${jsonOf(member)}`)
          .join(',')}}`;
  kept.set(value, text!);
  return text;
}
