/**
 * JSON of answers, as UTF-8 bytes. A frozen value is a cached answer, or a part of one, shared by
 * every request and never changed: its bytes are kept with it. A new version of a cached answer
 * shares its unchanged parts with the previous one (a seat map changed in one row keeps the other
 * rows' objects), so it is written by copying the kept bytes of those parts and encoding only what
 * changed. Anything not frozen is encoded as JSON.stringify writes it; the result is always the
 * UTF-8 of the text JSON.stringify gives. Joining bytes instead of strings spares flattening and
 * re-encoding the whole answer at every version (docs/decisions/004-read-caches.md).
 */
const kept = new WeakMap<object, Buffer>();

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;

/** JSON.stringify's rule for what an object member or an array item is left out as (or written `null` as). */
const isOmitted = (value: unknown) => value === undefined || typeof value === 'function' || typeof value === 'symbol';

const NULL = Buffer.from('null');

export function bytesOf(value: unknown): Buffer | undefined {
  const whole = () => {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : Buffer.from(text);
  };
  if (!isObject(value) || !Object.isFrozen(value)) return whole();
  const known = kept.get(value);
  if (known !== undefined) return known;
  const bytes =
    typeof (value as { toJSON?: unknown }).toJSON === 'function' || !Object.values(value).some(isObject)
      ? whole()
      : Array.isArray(value)
        ? arrayBytes(value)
        : objectBytes(value);
  if (bytes !== undefined) kept.set(value, bytes);
  return bytes;
}

function arrayBytes(items: unknown[]): Buffer {
  const parts: Buffer[] = [];
  let text = '[';
  // An index loop, not forEach: a hole is written `null`, as JSON.stringify writes it.
  for (let index = 0; index < items.length; index += 1) {
    const item = items[index];
    if (index > 0) text += ',';
    if (!isObject(item)) text += isOmitted(item) ? 'null' : JSON.stringify(item);
    else {
      parts.push(Buffer.from(text), bytesOf(item) ?? NULL);
      text = '';
    }
  }
  parts.push(Buffer.from(`${text}]`));
  return Buffer.concat(parts);
}

function objectBytes(value: object): Buffer {
  const parts: Buffer[] = [];
  let text = '{';
  let first = true;
  for (const [key, member] of Object.entries(value)) {
    if (isOmitted(member)) continue;
    // A member whose toJSON gives nothing is left out, as JSON.stringify leaves it out.
    const bytes = isObject(member) ? bytesOf(member) : undefined;
    if (isObject(member) && bytes === undefined) continue;
    text += `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    if (bytes === undefined) text += JSON.stringify(member);
    else {
      parts.push(Buffer.from(text), bytes);
      text = '';
    }
  }
  parts.push(Buffer.from(`${text}}`));
  return Buffer.concat(parts);
}
