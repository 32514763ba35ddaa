/**
 * Grouping rows by index key without encoding every row's key. Keys that are
 * primitives, or tuples of primitives, are equal exactly when their encodings
 * are (docs/encoding.md §4: numbers, strings, booleans, bigints and null each
 * encode one-to-one, and Map's SameValueZero agrees, -0 with 0 included), so
 * rows are filed in nested Maps by the key's parts and each distinct key is
 * encoded once — which also checks it. Other keys (dates, objects) are
 * encoded per row.
 */
import type { Index } from './indexes.js'

export class KeyGroups<G> {
  private readonly plain = new Map<unknown, G>()
  /** Tuples by length, then one Map level per part. */
  private readonly tuples = new Map<number, Map<unknown, unknown>>()
  private readonly byEncoding = new Map<string, G>()

  constructor(
    private readonly index: Index<any, unknown>,
    /** Makes the group of a key seen for the first time. */
    private readonly make: (key: unknown, encoded: string) => G,
  ) {}

  /** The group of `key` (the index's key of some row). */
  of(key: unknown): G {
    if (isPrimitive(key)) return this.leaf(this.plain, key, key)
    if (Array.isArray(key) && key.length > 0 && key.every(isPrimitive)) {
      let level = this.tuples.get(key.length)
      if (level === undefined) this.tuples.set(key.length, (level = new Map()))
      const last = key.length - 1
      for (let i = 0; i < last; i++) {
        let next = level.get(key[i]) as Map<unknown, unknown> | undefined
        if (next === undefined) level.set(key[i], (next = new Map()))
        level = next
      }
      return this.leaf(level as Map<unknown, G>, key[last], key)
    }
    return this.encoded(key)
  }

  /** Every group, in the order first seen. */
  groups(): IterableIterator<G> {
    return this.byEncoding.values()
  }

  private leaf(level: Map<unknown, G>, part: unknown, key: unknown): G {
    let g = level.get(part)
    if (g === undefined) level.set(part, (g = this.encoded(key)))
    return g
  }

  private encoded(key: unknown): G {
    const encoded = this.index.encodeKey(key)
    let g = this.byEncoding.get(encoded)
    if (g === undefined) this.byEncoding.set(encoded, (g = this.make(key, encoded)))
    return g
  }
}

function isPrimitive(v: unknown): boolean {
  const t = typeof v
  return t === 'string' || t === 'number' || t === 'boolean' || t === 'bigint' || v === null
}
