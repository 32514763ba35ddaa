/**
 * The native state table: Rust keeps each row's identity, weight and key bytes
 * in hash-grouped, lazily ordered indexes; JS keeps only the row objects, in
 * an array indexed by the slot Rust assigns (crates/README.md has the layout).
 * A row's canonical text is not kept: it is written once and made again from
 * the row when a reader needs it (a lookup hands out row objects and weights,
 * src/zset/rowsByKey.ts, and a join asks for texts only when its output is a
 * ZSet). Keeping every text cost ~100 bytes per row of JS heap, and
 * the young-generation collector copied each one on its way to the old one.
 *
 * The boundary is batch-shaped and allocates no JS objects per row: a batch's
 * canonical texts are packed into one reused buffer (with each text's
 * `length`, so the native side can split them), keys likewise as latin1, and
 * results come back in reused typed arrays. Per row, JS does what the pure-TS
 * table would do too (compute the index keys) plus one array store; hashing,
 * consolidation and indexing happen in Rust.
 */
import type { ScanRow } from '../runtime/view.js'
import { rowKey } from '../values/encode.js'
import { encodedKeyOf, type Index } from '../zset/indexes.js'
import { type StateTable, TsStateTable, splitByKey } from '../zset/state.js'
import { FlatRows, type RowsByKey } from '../zset/rowsByKey.js'
import { type RowKey, ZSet } from '../zset/zset.js'
import type { Binding, NativeZSet } from './binding.js'
import { Packer, SAME_AS_PREVIOUS_ROW, pack, scratchLength } from './packer.js'

/** `origin` of a row that disappeared, in `apply`/`mergeFrom` results. */
const REMOVED = 0xffffffff
const NONE = new Uint8Array(0)

/** Canonical texts (UTF-8) and keys (binary strings, one char per byte). */
const rowPacker = new Packer('utf8')
const keyPacker = new Packer('latin1')

/**
 * Scratch arrays shared by every native table. JS is single-threaded and these
 * calls never nest, so one set suffices; each grows to the largest batch seen.
 * With the packers' buffers they are the exchange arrays, through which the
 * per-iteration calls pass their data (`exchange`).
 */
const scratch = {
  rowLengths: new Uint32Array(1024),
  keyLengths: new Uint32Array(1024),
  weights: new Float64Array(1024),
  /** Lookups' slots, and the (slot, origin) pairs of `tableApply` and `mergeFrom`. */
  slots: new Uint32Array(2048),
  slotWeights: new Float64Array(1024),
  counts: new Uint32Array(1024),
}
/** Bumped when a scratch array is replaced by a bigger one. */
let scratchVersion = 0

function u32(name: 'rowLengths' | 'keyLengths' | 'slots' | 'counts', n: number): Uint32Array {
  if (scratch[name].length < n) {
    scratch[name] = new Uint32Array(scratchLength(n))
    scratchVersion++
  }
  return scratch[name]
}

function f64(name: 'weights' | 'slotWeights', n: number): Float64Array {
  if (scratch[name].length < n) {
    scratch[name] = new Float64Array(scratchLength(n))
    scratchVersion++
  }
  return scratch[name]
}

/** What the addon was last given as exchange arrays. */
const exchanged = { binding: undefined as Binding | undefined, version: -1, rowBuffer: undefined as Buffer | undefined, keyBuffer: undefined as Buffer | undefined }

/**
 * Gives the addon the exchange arrays if any of them changed since it was
 * last given them (called after any growth, before each per-iteration call).
 */
function exchange(binding: Binding): void {
  const x = exchanged
  if (x.binding === binding && x.version === scratchVersion && x.rowBuffer === rowPacker.buffer && x.keyBuffer === keyPacker.buffer) return
  const s = scratch
  binding.setExchange({
    rowBytes: rowPacker.buffer,
    keyBytes: keyPacker.buffer,
    rowLengths: s.rowLengths,
    keyLengths: s.keyLengths,
    weights: s.weights,
    slots: s.slots,
    slotWeights: s.slotWeights,
    counts: s.counts,
  })
  x.binding = binding
  x.version = scratchVersion
  x.rowBuffer = rowPacker.buffer
  x.keyBuffer = keyPacker.buffer
}

/** Reads through an index the table was not built with: a temporary TS table (slow, but right). */
function undeclared<T>(all: ZSet<T>, index: Index<T, unknown>): TsStateTable<T> {
  const table = new TsStateTable<T>([index])
  table.apply(all)
  return table
}

/**
 * A weight read from a Float64Array, as a small integer when it is one. Storing
 * the raw double into an entry would turn every entry's `weight` field (one
 * hidden class is shared by all entries) into a boxed double, and slow every
 * ZSet in the process down; an array of them would hold doubles, not small integers.
 */
const weightOf = (w: number): number => (w === (w | 0) ? w | 0 : w)

const textOf = (key: RowKey): string => (typeof key === 'number' ? String(key) : key)

/**
 * Rows that came in batches of at most this many rows keep their texts a while
 * (`recentTexts`), and reads of at most this many rows look for them.
 */
const SMALL = 16
/** At most this many texts are kept per table. */
const RECENT_TEXTS_LIMIT = 4096

export class NativeStateTable<T> implements StateTable<T> {
  readonly backend = 'native' as const
  private readonly native: NativeZSet
  /** `native`'s handle: the per-iteration calls go through the binding's functions (binding.ts says why). */
  private readonly handle: number
  /** Row objects by slot (undefined in a free slot). */
  private rows: (T | undefined)[]
  /**
   * The texts of rows written by small batches, by slot, until the slot changes.
   * At a row per iteration a row written in one iteration is often read in the
   * next (a group's total, to retract it), and making its text again from the
   * object cost more than the rest of the read. Large batches keep none (the
   * top of this file says why), and there are at most RECENT_TEXTS_LIMIT.
   */
  private recentTexts = new Map<number, RowKey>()

  constructor(
    private readonly binding: Binding,
    readonly indexes: readonly Index<T, any>[],
    from?: { native: NativeZSet; rows: (T | undefined)[] },
  ) {
    this.native = from?.native ?? new binding.NativeZSet(indexes.length)
    this.handle = this.native.handle
    this.rows = from?.rows ?? []
  }

  get size(): number {
    return this.binding.tableSize(this.handle)
  }

  get hash(): string {
    return this.native.hash()
  }

  /** The hash recomputed from every row (to check the incremental one). */
  recomputeHash(): string {
    return this.native.recomputeHash()
  }

  /** The position of `index` among the declared ones, or -1. */
  private indexNumber(index: Index<T, unknown>): number {
    const { indexes } = this
    for (let i = 0; i < indexes.length; i++) if (indexes[i]!.id === index.id) return i
    return -1
  }

  apply(delta: ZSet<T>, sign: 1 | -1 = 1): void {
    // Rows may repeat (an unconsolidated input batch): Rust sums them.
    const n = delta.entryCount
    if (n === 0) return
    const { indexes } = this
    const m = indexes.length
    const values = new Array<T>(n)
    const texts = n <= SMALL ? new Array<RowKey>(n) : undefined
    const rowLengths = u32('rowLengths', n)
    const keyLengths = u32('keyLengths', n * m)
    const weights = f64('weights', n)
    const packedTexts = rowPacker.reset()
    const keys = keyPacker.reset()
    const previousKeys = new Array<string>(m)
    let i = 0
    for (const e of delta.eachEntry()) {
      const text = textOf(e.key)
      packedTexts.add(text)
      if (texts) texts[i] = e.key
      rowLengths[i] = text.length
      weights[i] = e.weight * sign
      values[i] = e.value
      for (let j = 0; j < m; j++) {
        const k = encodedKeyOf(indexes[j]!, e.value, e.groupKey)
        if (i > 0 && k === previousKeys[j]) {
          keyLengths[i * m + j] = SAME_AS_PREVIOUS_ROW
        } else {
          keys.add(k)
          keyLengths[i * m + j] = k.length
          previousKeys[j] = k
        }
      }
      i++
    }
    const rowBytes = packedTexts.finish()
    const keyBytes = keys.finish()
    const out = u32('slots', 2 * n)
    exchange(this.binding)
    const pairs = this.binding.tableApply(this.handle, n, rowBytes, keyBytes)
    this.place(out, pairs, values, texts)
  }

  /**
   * Files the rows Rust placed: `out` holds (slot, origin) pairs, origin indexing
   * `values` (and `texts`, when the batch keeps them) or REMOVED.
   */
  private place(out: Uint32Array, pairs: number, values: readonly (T | undefined)[], texts?: readonly RowKey[]): void {
    const { rows, recentTexts } = this
    if (texts && recentTexts.size + pairs > RECENT_TEXTS_LIMIT) recentTexts.clear()
    for (let k = 0; k < pairs; k++) {
      const slot = out[2 * k]!
      const origin = out[2 * k + 1]!
      rows[slot] = origin === REMOVED ? undefined : values[origin]
      if (texts && origin !== REMOVED) recentTexts.set(slot, texts[origin]!)
      else if (recentTexts.size > 0) recentTexts.delete(slot)
    }
  }

  release(): void {
    this.native.clear()
    this.rows = []
    this.recentTexts.clear()
  }

  copy(): NativeStateTable<T> {
    return new NativeStateTable(this.binding, this.indexes, { native: this.native.copy(), rows: this.rows.slice() })
  }

  applyTable(other: StateTable<T>, sign: 1 | -1 = 1): void {
    if (!(other instanceof NativeStateTable) || !sameIndexes(this.indexes, other.indexes)) {
      this.apply(other.toZSet(), sign)
      return
    }
    const out = u32('slots', 2 * other.size)
    const pairs = this.native.mergeFrom(other.native, sign, out)
    // (When other is this table, nothing appears: every origin is already in place.)
    this.place(out, pairs, other.rows)
  }

  /** Slots (and weights, and with `withCounts` each key's count) of the rows under `encodedKeys`, in the shared scratch arrays. */
  private lookupSlots(i: number, encodedKeys: readonly string[], sorted: boolean, withCounts: boolean): number {
    const n = encodedKeys.length
    const keyBytes = pack(keyPacker, encodedKeys, u32('keyLengths', n))
    if (withCounts) u32('counts', n)
    exchange(this.binding)
    let total = this.binding.tableLookup(this.handle, i, n, keyBytes, sorted, withCounts)
    if (total > scratch.slots.length || total > scratch.slotWeights.length) {
      u32('slots', total)
      f64('slotWeights', total)
      exchange(this.binding)
      total = this.binding.tableLookup(this.handle, i, n, keyBytes, sorted, withCounts)
    }
    return total
  }

  lookupKeys(index: Index<T, unknown>, encodedKeys: readonly string[]): ZSet<T> {
    const i = this.indexNumber(index)
    if (i < 0) return undeclared(this.toZSet(), index).lookupKeys(index, encodedKeys)
    const out = new ZSet<T>()
    if (encodedKeys.length === 0) return out
    // Rows are distinct (a repeated key finds the same rows, set again to the same entry).
    return this.scratchToZSet(this.lookupSlots(i, encodedKeys, false, false), out)
  }

  lookupEach(index: Index<T, unknown>, encodedKeys: readonly string[]): RowsByKey<T> {
    const i = this.indexNumber(index)
    if (i < 0) return splitByKey(this.lookupKeys(index, encodedKeys), index, encodedKeys)
    const n = encodedKeys.length
    // A plain array: a typed one costs more to make than a small lookup's other work.
    const starts = new Array<number>(n + 1)
    starts[0] = 0
    if (n === 0) return new FlatRows<T>([], [], starts)
    const total = this.lookupSlots(i, encodedKeys, false, true)
    // Counts to starts: key k's rows end where key k + 1's begin.
    const { counts } = scratch
    for (let k = 0; k < n; k++) starts[k + 1] = starts[k]! + counts[k]!
    // The row objects and weights as they are: no object per row (rowsByKey.ts says why).
    const { slots, slotWeights } = scratch
    const { rows, recentTexts } = this
    const values = new Array<T>(total)
    const weights = new Array<number>(total)
    for (let p = 0; p < total; p++) {
      values[p] = rows[slots[p]!]!
      weights[p] = weightOf(slotWeights[p]!)
    }
    if (total > SMALL || recentTexts.size === 0) return new FlatRows(values, weights, starts)
    const texts = new Array<RowKey | undefined>(total)
    for (let p = 0; p < total; p++) texts[p] = recentTexts.get(slots[p]!)
    return new FlatRows(values, weights, starts, texts)
  }

  /** The first `n` rows of `scratch.slots`/`scratch.slotWeights` as ZSet entries of `out`. */
  private scratchToZSet(n: number, out: ZSet<T> = new ZSet<T>()): ZSet<T> {
    const { slots, slotWeights } = scratch
    const { rows } = this
    const entries = out.entries
    for (let k = 0; k < n; k++) {
      const value = rows[slots[k]!]!
      const key = rowKey(value)
      entries.set(key, { key, value, weight: weightOf(slotWeights[k]!) })
    }
    return out
  }

  /** The table's weight of each of `texts` (canonical texts), in `scratch.slotWeights`. */
  private weightsOf(texts: string[]): Float64Array {
    const n = texts.length
    const bytes = pack(rowPacker, texts, u32('rowLengths', n))
    const weights = f64('slotWeights', n)
    exchange(this.binding)
    this.binding.tableWeightsOf(this.handle, n, bytes)
    return weights
  }

  lookupRows(rows: ZSet<T>): ZSet<T> {
    const out = new ZSet<T>()
    if (rows.isEmpty()) return out
    const wanted = [...rows.entries.values()]
    const weights = this.weightsOf(wanted.map((e) => textOf(e.key)))
    const entries = out.entries
    for (let k = 0; k < wanted.length; k++) {
      const w = weightOf(weights[k]!)
      if (w !== 0) entries.set(wanted[k]!.key, { key: wanted[k]!.key, value: wanted[k]!.value, weight: w })
    }
    return out
  }

  *scan(index: Index<T, unknown>): Iterable<ScanRow<T>> {
    const i = this.indexNumber(index)
    if (i < 0) {
      yield* undeclared(this.toZSet(), index).scan(index)
      return
    }
    // Chunks that grow (firstN usually stops early), each resuming after the last
    // row of the one before; a chunk is read out before it is yielded, so the
    // table may change while the caller iterates.
    let limit = 64
    let slots = new Uint32Array(limit)
    let weights = new Float64Array(limit)
    let keyLengths = new Uint32Array(limit)
    let bytes = Buffer.allocUnsafe(limit * 64)
    let after: Uint8Array = NONE
    for (;;) {
      const r = this.native.scan(i, after, NONE, limit, slots, weights, keyLengths, bytes)
      const n = r < 0 ? -r - 1 : r
      if (r < 0 && n === 0) {
        bytes = Buffer.allocUnsafe(bytes.length * 4)
        continue
      }
      let used = 0
      for (let k = 0; k < n; k++) used += keyLengths[k]! + 32
      const text = bytes.toString('latin1', 0, used)
      const chunk: ScanRow<T>[] = new Array(n)
      let p = 0
      for (let k = 0; k < n; k++) {
        const end = p + keyLengths[k]!
        chunk[k] = { keyEnc: text.slice(p, end), tie: text.slice(end, end + 32), value: this.rows[slots[k]!]!, weight: weightOf(weights[k]!) }
        p = end + 32
      }
      if (n > 0) {
        const last = chunk[n - 1]!
        after = Buffer.concat([Buffer.from(last.keyEnc, 'latin1'), Buffer.from(last.tie, 'hex')])
      }
      yield* chunk
      if (r >= 0 && n < limit) return
      if (limit < 16384) {
        limit *= 4
        slots = new Uint32Array(limit)
        weights = new Float64Array(limit)
        keyLengths = new Uint32Array(limit)
        if (bytes.length < limit * 48) bytes = Buffer.allocUnsafe(limit * 64)
      }
    }
  }

  /** Every row's slot and weight, in `scratch.slots`/`scratch.slotWeights`. */
  private allSlots(): number {
    const n = this.size
    return this.native.entries(u32('slots', n), f64('slotWeights', n))
  }

  toZSet(): ZSet<T> {
    return this.scratchToZSet(this.allSlots())
  }

  // iter and iterByIndex with keys read everything at once, so they return arrays
  // (cheaper to iterate than a generator); only full ordered scans stay lazy.
  iter(match?: Iterable<T>): Iterable<[T, number]> {
    if (match === undefined) {
      const n = this.allSlots()
      const pairs: [T, number][] = new Array(n)
      for (let k = 0; k < n; k++) pairs[k] = [this.rows[scratch.slots[k]!]!, weightOf(scratch.slotWeights[k]!)]
      return pairs
    }
    const wanted = new ZSet<T>()
    for (const v of match) wanted.addWeight(rowKey(v), v, 1)
    return [...this.lookupRows(wanted).iter()]
  }

  iterByIndex<K>(index: Index<T, K>, matchKeys?: Iterable<K>): Iterable<[K, T, number]> {
    const i = this.indexNumber(index as Index<T, unknown>)
    if (i < 0) return this.toZSet().iterByIndex(index, matchKeys)
    if (matchKeys === undefined) return this.scanByIndex(index)
    let encoded: string[] = []
    for (const k of matchKeys) encoded.push(index.encodeKey(k))
    if (encoded.length === 0) return []
    if (encoded.length > 1) encoded = [...new Set(encoded)].sort()
    const total = this.lookupSlots(i, encoded, true, false)
    const found: [K, T, number][] = new Array(total)
    const { slots, slotWeights } = scratch
    for (let k = 0; k < total; k++) {
      const value = this.rows[slots[k]!]!
      found[k] = [index.key(value), value, weightOf(slotWeights[k]!)]
    }
    return found
  }

  private *scanByIndex<K>(index: Index<T, K>): Iterable<[K, T, number]> {
    for (const row of this.scan(index as Index<T, unknown>)) yield [index.key(row.value), row.value, row.weight]
  }
}

function sameIndexes(a: readonly Index<any, any>[], b: readonly Index<any, any>[]): boolean {
  return a.length === b.length && a.every((x, i) => x.id === b[i]!.id)
}
