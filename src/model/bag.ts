/**
 * A compact multiset for index buckets: most buckets hold one value, so a bucket is the value
 * itself until a second one arrives, then a Set. Saves a hash table per single-entry bucket,
 * which is most of them (unique hosts, unique route matches).
 */
export type Bag<T extends object> = T | Set<T> | undefined

export function bagAdd<T extends object>(bag: Bag<T>, v: T): Bag<T> {
  if (bag === undefined) return v
  if (bag instanceof Set) return bag.add(v)
  if (bag === v) return bag
  return new Set([bag, v])
}

/** Removes the values matching `pred`; returns the new bag (undefined when empty). */
export function bagRemove<T extends object>(bag: Bag<T>, pred: (v: T) => boolean): Bag<T> {
  if (bag === undefined) return undefined
  if (!(bag instanceof Set)) return pred(bag) ? undefined : bag
  for (const v of bag) if (pred(v)) bag.delete(v)
  if (bag.size === 0) return undefined
  if (bag.size === 1) return bag.values().next().value as T
  return bag
}

const NONE: readonly never[] = Object.freeze([])

/** The values of a bag, without copying a Set (iterate it before changing the bag). */
export function bagValues<T extends object>(bag: Bag<T>): Iterable<T> {
  if (bag === undefined) return NONE
  if (bag instanceof Set) return bag
  return [bag]
}

export function bagSize<T extends object>(bag: Bag<T>): number {
  return bag === undefined ? 0 : bag instanceof Set ? bag.size : 1
}

/** Map of bags. */
export class MultiMap<K, V extends object> {
  readonly map = new Map<K, Bag<V>>()

  add(k: K, v: V): void {
    this.map.set(k, bagAdd(this.map.get(k), v))
  }

  remove(k: K, pred: (v: V) => boolean): void {
    const b = bagRemove(this.map.get(k), pred)
    if (b === undefined) this.map.delete(k)
    else this.map.set(k, b)
  }

  get(k: K): Iterable<V> {
    return bagValues(this.map.get(k))
  }
}
