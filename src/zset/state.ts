/**
 * State tables: the ZSets a store keeps between iterations (one per delay
 * vertex), read through their indexes. This is where the two backends differ:
 * the pure-TS table is an indexed `ZSet`; the native table keeps identities,
 * weights and ordered key indexes in Rust and only the row objects in JS.
 */
import type { ScanRow } from '../runtime/view.js'
import type { Index } from './indexes.js'
import { EntryRows, type RowsByKey } from './rowsByKey.js'
import { type Entry, entryId, sortTies, ZSet } from './zset.js'

export interface StateTable<T> {
  /** Which backend holds the table. */
  readonly backend: 'native' | 'ts'
  readonly size: number
  /** table += sign × delta */
  apply(delta: ZSet<T>, sign?: 1 | -1): void
  /** Rows whose key in `index` is one of `encodedKeys`. */
  lookupKeys(index: Index<T, unknown>, encodedKeys: readonly string[]): ZSet<T>
  /** The rows under each of `encodedKeys` (distinct keys), key by key: saves re-encoding keys to tell rows apart. */
  lookupEach(index: Index<T, unknown>, encodedKeys: readonly string[]): RowsByKey<T>
  /** An independent copy (same rows, weights and indexes). */
  copy(): StateTable<T>
  /** table += sign × other (other has the same indexes; a native pair adds natively). */
  applyTable(other: StateTable<T>, sign?: 1 | -1): void
  /** The table's weights of the given rows. */
  lookupRows(rows: ZSet<T>): ZSet<T>
  /** Rows in index order (ties by identity hash). */
  scan(index: Index<T, unknown>): Iterable<ScanRow<T>>
  /** A copy of everything. */
  toZSet(): ZSet<T>
  iter(match?: Iterable<T>): Iterable<[T, number]>
  iterByIndex<K>(index: Index<T, K>, matchKeys?: Iterable<K>): Iterable<[K, T, number]>
  readonly hash: string
  /**
   * Empties the table and frees its memory now, rather than when the table is
   * collected: V8 sees a native table's memory only as an external figure, and
   * tables left for the collector make it collect more often meanwhile.
   */
  release(): void
}

/** The pure-TS state table: an indexed ZSet updated in place. */
export class TsStateTable<T> implements StateTable<T> {
  readonly backend = 'ts' as const
  private z: ZSet<T>

  constructor(
    readonly indexes: readonly Index<T, any>[],
    from?: ZSet<T>,
  ) {
    this.z = from ?? new ZSet<T>(indexes)
  }

  get size(): number {
    return this.z.size
  }

  get hash(): string {
    return this.z.hash
  }

  apply(delta: ZSet<T>, sign: 1 | -1 = 1): void {
    this.z.addInPlace(delta, sign)
  }

  release(): void {
    this.z = new ZSet<T>(this.indexes)
  }

  copy(): TsStateTable<T> {
    return new TsStateTable(this.indexes, this.z.copy(this.indexes))
  }

  applyTable(other: StateTable<T>, sign: 1 | -1 = 1): void {
    this.z.addInPlace(other instanceof TsStateTable ? other.z : other.toZSet(), sign)
  }

  lookupKeys(index: Index<T, unknown>, encodedKeys: readonly string[]): ZSet<T> {
    const out = new ZSet<T>()
    const state = this.z.indexState(index)
    if (state) {
      // Buckets hold distinct rows, and a repeated key sets the same entries again.
      const entries = out.entries
      for (const k of encodedKeys) {
        const bucket = state.buckets.get(k)
        if (bucket) for (const e of bucket.rows.values()) entries.set(e.key, { key: e.key, value: e.value, weight: e.weight })
      }
      return out
    }
    const wanted = new Set(encodedKeys)
    for (const e of this.z.entries.values()) {
      if (wanted.has(index.encodeKey(index.key(e.value)))) out.addWeight(e.key, e.value, e.weight)
    }
    return out
  }

  lookupEach(index: Index<T, unknown>, encodedKeys: readonly string[]): RowsByKey<T> {
    const state = this.z.indexState(index)
    if (!state) return splitByKey(this.lookupKeys(index, encodedKeys), index, encodedKeys)
    // The live entries: readers use them before the table changes again.
    return new EntryRows(
      encodedKeys.map((k) => {
        const bucket = state.buckets.get(k)
        return bucket ? [...bucket.rows.values()] : []
      }),
    )
  }

  lookupRows(rows: ZSet<T>): ZSet<T> {
    const out = new ZSet<T>()
    for (const key of rows.entries.keys()) {
      const e = this.z.entries.get(key)
      if (e) out.addWeight(e.key, e.value, e.weight)
    }
    return out
  }

  *scan(index: Index<T, unknown>): Iterable<ScanRow<T>> {
    // Stores declare the indexes they scan; an undeclared one gets a temporary copy.
    const state = this.z.indexState(index) ?? this.z.copy([index]).indexState(index)!
    for (const bucket of state.orderedBuckets()) {
      for (const e of sortTies(bucket.rows.values())) {
        yield { keyEnc: bucket.encoded, tie: entryId(e), value: e.value, weight: e.weight }
      }
    }
  }

  toZSet(): ZSet<T> {
    return this.z.copy()
  }

  iter(match?: Iterable<T>): Iterable<[T, number]> {
    return this.z.iter(match)
  }

  iterByIndex<K>(index: Index<T, K>, matchKeys?: Iterable<K>): Iterable<[K, T, number]> {
    return this.z.iterByIndex(index, matchKeys)
  }
}

/** Rows of `z` listed under their key among `encodedKeys` (for tables without that index). */
export function splitByKey<T>(z: ZSet<T>, index: Index<T, unknown>, encodedKeys: readonly string[]): RowsByKey<T> {
  const byKey = new Map<string, Entry<T>[]>(encodedKeys.map((k) => [k, []]))
  for (const e of z.entries.values()) byKey.get(index.encodeKey(index.key(e.value)))?.push(e)
  return new EntryRows(encodedKeys.map((k) => byKey.get(k)!))
}

import { backend, loadNative } from '../native/binding.js'
import { NativeStateTable } from '../native/state.js'

/**
 * A new, empty state table in the backend in use (or the one asked for: the
 * addon is loaded on demand when STEPPING_BACKEND=ts chose the other).
 */
export function createStateTable<T>(indexes: readonly Index<T, any>[], which: 'native' | 'ts' = backend): StateTable<T> {
  if (which === 'native') {
    const binding = loadNative()
    if (!binding) throw new Error('the native backend is not available (the addon did not load)')
    return new NativeStateTable(binding, indexes)
  }
  return new TsStateTable(indexes)
}
