/**
 * Sets a key of a map kept to at most `max` keys: a new key past the bound pushes out the one set
 * first. Returns the key pushed out, if any (its companions elsewhere go with it).
 */
export function setBounded<K, V>(map: Map<K, V>, max: number, key: K, value: V): K | undefined {
  let pushedOut: K | undefined;
  if (!map.has(key) && map.size >= max) {
    pushedOut = map.keys().next().value;
    map.delete(pushedOut!);
  }
  map.set(key, value);
  return pushedOut;
}
