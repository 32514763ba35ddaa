/**
 * Z-sets (paper §2): finite maps from rows to integer weights, an abelian group
 * under `add` with `neg` as inverse. This is the pure-TS backend.
 *
 * Rows are consolidated on their canonical text (numbers on themselves), so
 * `{a: 1, b: 2}` and `{b: 2, a: 1}` are the same row. A ZSet may carry indexes:
 * these keep rows grouped by key, ordered on demand, and are what joins, firstN
 * and the caches read through.
 */
import { CANONICAL, canonical, keyText, registerZSetFactory, rowKey, type SelfEncoding } from '../values/encode.js'
import { addHashes, hashText, hashToHex, multisetTerm } from '../values/hash.js'
import { compareCodePoints } from '../values/order.js'
import { InvalidValueError } from '../values/errors.js'
import { BTree } from './btree.js'
import { encodedKeyOf, type Index } from './indexes.js'
import { renderTable } from './table.js'

export type RowKey = string | number

/** One row of a ZSet; the weight is mutated only by the ZSet that owns the entry. */
export interface Entry<T> {
  readonly key: RowKey
  readonly value: T
  weight: number
  /** The row's identity hash (hex), computed when rows with equal index keys need ordering. */
  id?: string
  /** For perGroup state rows: the group's key as GROUP_KEY_INDEX encodes it, when the writer knew it. */
  readonly groupKey?: string
}

interface Bucket<T> {
  readonly key: unknown
  readonly encoded: string
  readonly rows: Map<RowKey, Entry<T>>
}

/** An index kept up to date as the ZSet changes: buckets by key, a B-tree of keys once someone scans in order. */
export class IndexState<T> {
  readonly buckets = new Map<string, Bucket<T>>()
  private ordered: BTree<string, Bucket<T>> | undefined

  constructor(readonly index: Index<T, unknown>) {}

  insert(entry: Entry<T>): void {
    const key = this.index.key(entry.value)
    const encoded = encodedKeyOf(this.index, entry.value, entry.groupKey)
    let bucket = this.buckets.get(encoded)
    if (bucket === undefined) {
      bucket = { key, encoded, rows: new Map() }
      this.buckets.set(encoded, bucket)
      this.ordered?.set(encoded, bucket)
    }
    bucket.rows.set(entry.key, entry)
  }

  remove(entry: Entry<T>): void {
    const encoded = encodedKeyOf(this.index, entry.value, entry.groupKey)
    const bucket = this.buckets.get(encoded)
    if (bucket === undefined) return
    bucket.rows.delete(entry.key)
    if (bucket.rows.size === 0) {
      this.buckets.delete(encoded)
      this.ordered?.delete(encoded)
    }
  }

  /** Buckets in key order (the B-tree is built on the first call, then maintained). */
  orderedBuckets(): IterableIterator<Bucket<T>> {
    if (this.ordered === undefined) {
      this.ordered = new BTree<string, Bucket<T>>()
      for (const [k, b] of this.buckets) this.ordered.set(k, b)
    }
    return this.ordered.values()
  }

  /** Buckets for the given encoded keys, in key order. */
  bucketsFor(encodedKeys: Iterable<string>): Bucket<T>[] {
    const out: Bucket<T>[] = []
    for (const k of new Set(encodedKeys)) {
      const b = this.buckets.get(k)
      if (b) out.push(b)
    }
    return out.sort((a, b) => (a.encoded < b.encoded ? -1 : 1))
  }
}

/** The identity hash of an entry's row (hex; hex order is byte order), cached on the entry. */
export function entryId(e: Entry<unknown>): string {
  return (e.id ??= hashText(keyText(e.key)))
}

/**
 * Rows with equal index keys come out ordered by identity hash: the same order
 * in every store (SQL stores index `(key, id)`), and cheaper to index than text.
 */
export function sortTies<T>(entries: Iterable<Entry<T>>): Entry<T>[] {
  const list = [...entries]
  if (list.length > 1) {
    for (const e of list) entryId(e)
    list.sort((a, b) => (a.id! < b.id! ? -1 : 1))
  }
  return list
}

function checkWeight(w: number): void {
  if (!Number.isSafeInteger(w)) throw new InvalidValueError(`a weight must be a safe integer, got ${w}`, '')
}

/** [row, weight] pairs as entries with their identities (zero weights left out); a bad row or weight names its position. */
function checkedEntries<T>(rows: Iterable<readonly [T, number]>): Entry<T>[] {
  const out: Entry<T>[] = []
  let i = 0
  for (const [value, weight] of rows) {
    try {
      checkWeight(weight)
      if (weight !== 0) out.push({ key: rowKey(value), value, weight })
    } catch (e) {
      throw e instanceof InvalidValueError ? e.at(`row ${i}`) : e
    }
    i++
  }
  return out
}

export class ZSet<T> implements SelfEncoding {
  private readonly byKey = new Map<RowKey, Entry<T>>()
  /**
   * Rows with their identities but not yet summed (`unconsolidated`): an input
   * batch whose consumers sum anyway (a join's pairs, a state table's rows) is
   * read through `eachEntry` and never pays for a hash-map insert per row.
   */
  private pending: Entry<T>[] | undefined
  /** @internal indexes maintained on every change */
  indexStates: IndexState<any>[] | undefined
  private hashSum: bigint | undefined

  /** @internal */
  constructor(indexes?: readonly Index<T, any>[]) {
    if (indexes && indexes.length > 0) this.indexStates = indexes.map((i) => new IndexState<T>(i))
  }

  /** Build from [row, weight] pairs; repeated rows are summed and zero weights dropped. */
  static from<T>(rows: Iterable<readonly [T, number]>, indexes?: readonly Index<T, any>[]): ZSet<T> {
    const z = new ZSet<T>(indexes)
    for (const e of checkedEntries(rows)) z.addWeight(e.key, e.value, e.weight)
    return z
  }

  /**
   * Like `from`, but equal rows are summed only when someone needs the ZSet
   * consolidated (`entries`, `size`, …); `eachEntry` hands them out as given.
   * Rows are encoded (and so checked) here, before anything reads them.
   */
  static unconsolidated<T>(rows: Iterable<readonly [T, number]>): ZSet<T> {
    const z = new ZSet<T>()
    z.pending = checkedEntries(rows)
    return z
  }

  /** @internal row key → entry */
  get entries(): Map<RowKey, Entry<T>> {
    if (this.pending !== undefined) this.consolidate()
    return this.byKey
  }

  private consolidate(): void {
    const pending = this.pending!
    this.pending = undefined
    // Entries handed out by eachEntry stay as they were: summing works on copies.
    for (const e of pending) this.addWeight(e.key, e.value, e.weight)
  }

  /**
   * @internal Every entry, where a row may come more than once (weights to be
   * summed): for consumers that sum anyway — bilinear joins, state writes.
   */
  eachEntry(): Iterable<Entry<T>> {
    return this.pending ?? this.byKey.values()
  }

  /** @internal How many entries `eachEntry` gives (repeats included). */
  get entryCount(): number {
    return this.pending?.length ?? this.byKey.size
  }

  get size(): number {
    return this.entries.size
  }

  isEmpty(): boolean {
    return this.entries.size === 0
  }

  /** The weight of one row (0 when absent). */
  count(value: T): number {
    return this.entries.get(rowKey(value))?.weight ?? 0
  }

  add(other: ZSet<T>): ZSet<T> {
    const [big, small] = this.size >= other.size ? [this, other] : [other, this]
    const out = big.copy()
    out.addInPlace(small)
    return out
  }

  neg(): ZSet<T> {
    return this.mul(-1)
  }

  mul(n: number): ZSet<T> {
    checkWeight(n)
    const out = new ZSet<T>()
    if (n === 0) return out
    for (const e of this.entries.values()) out.entries.set(e.key, { key: e.key, value: e.value, weight: e.weight * n })
    return out
  }

  equals(other: ZSet<T>): boolean {
    if (this.size !== other.size) return false
    for (const e of this.entries.values()) {
      if (other.entries.get(e.key)?.weight !== e.weight) return false
    }
    return true
  }

  /** The multiset hash (docs/encoding.md §3): computed once, then kept up to date from the changes. */
  get hash(): string {
    if (this.hashSum === undefined) {
      let h = 0n
      for (const e of this.entries.values()) h = addHashes(h, multisetTerm(canonical(e.value), e.weight))
      this.hashSum = h
    }
    return hashToHex(this.hashSum)
  }

  /** [row, weight] pairs; with `match`, only those rows. */
  *iter(match?: Iterable<T>): IterableIterator<[T, number]> {
    if (match === undefined) {
      for (const e of this.entries.values()) yield [e.value, e.weight]
      return
    }
    const seen = new Set<RowKey>()
    for (const v of match) {
      const k = rowKey(v)
      if (seen.has(k)) continue
      seen.add(k)
      const e = this.entries.get(k)
      if (e) yield [e.value, e.weight]
    }
  }

  /** [key, row, weight] in index order; with `matchKeys`, only rows with those keys. */
  *iterByIndex<K>(index: Index<T, K>, matchKeys?: Iterable<K>): IterableIterator<[K, T, number]> {
    const state = this.indexState(index) ?? this.temporaryIndex(index)
    const buckets =
      matchKeys === undefined ? state.orderedBuckets() : state.bucketsFor([...matchKeys].map((k) => index.encodeKey(k)))
    for (const bucket of buckets) {
      for (const e of sortTies(bucket.rows.values())) yield [bucket.key as K, e.value, e.weight]
    }
  }

  toString(): string {
    return renderTable(this.iter())
  }

  [CANONICAL](): string {
    const parts: string[] = []
    for (const e of this.entries.values()) parts.push('[' + canonical(e.value) + ',' + String(e.weight) + ']')
    parts.sort(compareCodePoints)
    return '{"$z":[' + parts.join(',') + ']}'
  }

  // ---- internal: used by operators and stores; these mutate ----

  /** @internal */
  indexState<K>(index: Index<T, K>): IndexState<T> | undefined {
    return this.indexStates?.find((s) => s.index.id === index.id)
  }

  private temporaryIndex<K>(index: Index<T, K>): IndexState<T> {
    const state = new IndexState<T>(index as Index<T, unknown>)
    for (const e of this.entries.values()) state.insert(e)
    return state
  }

  /** @internal add `weight` to one row (the caller has checked the row); `groupKey`: see Entry. */
  addWeight(key: RowKey, value: T, weight: number, groupKey?: string): void {
    if (weight === 0) return
    if (this.pending !== undefined) this.consolidate()
    const e = this.byKey.get(key)
    if (this.hashSum !== undefined) {
      this.hashSum = addHashes(this.hashSum, multisetTerm(typeof key === 'number' ? String(key) : key, weight))
    }
    if (e === undefined) {
      const entry: Entry<T> = groupKey === undefined ? { key, value, weight } : { key, value, weight, groupKey }
      this.byKey.set(key, entry)
      if (this.indexStates) for (const s of this.indexStates) s.insert(entry)
      return
    }
    e.weight += weight
    if (e.weight === 0) {
      this.byKey.delete(key)
      if (this.indexStates) for (const s of this.indexStates) s.remove(e)
    }
  }

  /** @internal this += other */
  addInPlace(other: ZSet<T>, times = 1): void {
    for (const e of other.eachEntry()) this.addWeight(e.key, e.value, e.weight * times, e.groupKey)
  }

  /** @internal a copy that owns its entries (indexes are not copied). */
  copy(indexes?: readonly Index<T, any>[]): ZSet<T> {
    const out = new ZSet<T>(indexes)
    if (out.indexStates === undefined) {
      for (const e of this.entries.values()) out.entries.set(e.key, { key: e.key, value: e.value, weight: e.weight })
    } else {
      for (const e of this.entries.values()) out.addWeight(e.key, e.value, e.weight)
    }
    return out
  }
}

registerZSetFactory((rows) => ZSet.from(rows))

/** Build a ZSet from [row, weight] pairs (zero weights dropped, repeats summed). */
export function zset<T>(rows: Iterable<readonly [T, number]> = []): ZSet<T> {
  return ZSet.from(rows)
}

/** True for ZSets of either backend. */
export function isZSet(v: unknown): v is ZSet<unknown> {
  return v instanceof ZSet
}
