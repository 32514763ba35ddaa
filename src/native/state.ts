/**
 * The native state table: Rust keeps each row's identity, canonical bytes,
 * weight and key bytes in ordered indexes; JS keeps the row objects (and their
 * row keys) in arrays indexed by the slot Rust assigns. Every call crosses the
 * boundary once per batch, with rows packed into one buffer.
 */
import type { ScanRow } from '../runtime/view.js'
import { keyText, rowKey } from '../values/encode.js'
import { hashText } from '../values/hash.js'
import type { Index } from '../zset/indexes.js'
import { type StateTable, TsStateTable } from '../zset/state.js'
import { type RowKey, ZSet } from '../zset/zset.js'
import type { Binding, NativeZSet, SlotWeights } from './binding.js'

/** Packs strings into one buffer + offsets (the batch layout of crates/stepping-napi). */
class Packer {
  private buf = Buffer.allocUnsafe(1 << 16)
  private offsets = new Uint32Array(1025)
  private n = 0
  private end = 0

  reset(): this {
    this.n = 0
    this.end = 0
    this.offsets[0] = 0
    return this
  }

  push(s: string, encoding: 'utf8' | 'latin1'): void {
    const max = encoding === 'utf8' ? s.length * 3 : s.length
    if (this.end + max > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.end + max))
      this.buf.copy(bigger, 0, 0, this.end)
      this.buf = bigger
    }
    this.end += this.buf.write(s, this.end, encoding)
    if (this.n + 2 > this.offsets.length) {
      const bigger = new Uint32Array(this.offsets.length * 2)
      bigger.set(this.offsets)
      this.offsets = bigger
    }
    this.offsets[++this.n] = this.end
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.end)
  }

  offsetArray(): Uint32Array {
    return this.offsets.subarray(0, this.n + 1)
  }
}

const texts = new Packer()
const keys = new Packer()

/** Reads through an index the table was not built with: a temporary TS table (slow, but right). */
function undeclared<T>(all: ZSet<T>, index: Index<T, unknown>): TsStateTable<T> {
  const table = new TsStateTable<T>([index])
  table.apply(all)
  return table
}

export class NativeStateTable<T> implements StateTable<T> {
  private readonly native: NativeZSet
  private readonly rows: (T | undefined)[] = []
  private readonly rowKeys: (RowKey | undefined)[] = []

  constructor(
    binding: Binding,
    readonly indexes: readonly Index<T, any>[],
  ) {
    this.native = new binding.NativeZSet(indexes.length)
  }

  get size(): number {
    return this.native.size
  }

  get hash(): string {
    return this.native.hash()
  }

  /** The position of `index` among the declared ones, or -1. */
  private indexNumber(index: Index<T, unknown>): number {
    return this.indexes.findIndex((x) => x.id === index.id)
  }

  apply(delta: ZSet<T>, sign: 1 | -1 = 1): void {
    if (delta.isEmpty()) return
    texts.reset()
    keys.reset()
    const values: T[] = []
    const valueKeys: RowKey[] = []
    const weights = new Float64Array(delta.size)
    let i = 0
    for (const e of delta.entries.values()) {
      texts.push(keyText(e.key), 'utf8')
      for (const index of this.indexes) keys.push(index.encodeKey(index.key(e.value)), 'latin1')
      values.push(e.value)
      valueKeys.push(e.key)
      weights[i++] = e.weight * sign
    }
    const change = this.native.addBatch(texts.bytes(), texts.offsetArray(), weights, keys.bytes(), keys.offsetArray())
    const { origins, slots, oldWeights, newWeights } = change
    for (let k = 0; k < slots.length; k++) {
      const slot = slots[k]!
      if (oldWeights[k] === 0) {
        this.rows[slot] = values[origins[k]!]
        this.rowKeys[slot] = valueKeys[origins[k]!]
      } else if (newWeights[k] === 0) {
        this.rows[slot] = undefined
        this.rowKeys[slot] = undefined
      }
    }
  }

  private toZSetOf({ slots, weights }: SlotWeights): ZSet<T> {
    const out = new ZSet<T>()
    for (let k = 0; k < slots.length; k++) out.addWeight(this.rowKeys[slots[k]!]!, this.rows[slots[k]!]!, weights[k]!)
    return out
  }

  lookupKeys(index: Index<T, unknown>, encodedKeys: readonly string[]): ZSet<T> {
    if (this.indexNumber(index) < 0) return undeclared(this.toZSet(), index).lookupKeys(index, encodedKeys)
    keys.reset()
    for (const k of encodedKeys) keys.push(k, 'latin1')
    return this.toZSetOf(this.native.lookupByKeys(this.indexNumber(index), keys.bytes(), keys.offsetArray()))
  }

  lookupRows(rows: ZSet<T>): ZSet<T> {
    texts.reset()
    for (const key of rows.entries.keys()) texts.push(keyText(key), 'utf8')
    const found = this.native.findRows(texts.bytes(), texts.offsetArray())
    const out = new ZSet<T>()
    for (let k = 0; k < found.slots.length; k++) {
      const slot = found.slots[k]!
      if (found.weights[k] !== 0) out.addWeight(this.rowKeys[slot]!, this.rows[slot]!, found.weights[k]!)
    }
    return out
  }

  *scan(index: Index<T, unknown>): Iterable<ScanRow<T>> {
    const i = this.indexNumber(index)
    if (i < 0) {
      yield* undeclared(this.toZSet(), index).scan(index)
      return
    }
    // Read a few rows first (firstN usually stops early), then more: no cursor crosses the boundary.
    let limit = 64
    let seen = 0
    for (;;) {
      const { slots, weights } = this.native.scanOrdered(i, limit)
      for (let k = seen; k < slots.length; k++) {
        const value = this.rows[slots[k]!]!
        yield { keyEnc: index.encodeKey(index.key(value)), tie: hashText(keyText(this.rowKeys[slots[k]!]!)), value, weight: weights[k]! }
      }
      if (slots.length < limit) return
      seen = slots.length
      limit *= 4
    }
  }

  toZSet(): ZSet<T> {
    return this.toZSetOf(this.native.entries())
  }

  *iter(match?: Iterable<T>): Iterable<[T, number]> {
    if (match === undefined) {
      for (const [value, weight] of this.toZSet().iter()) yield [value, weight]
      return
    }
    const wanted = new ZSet<T>()
    for (const v of match) wanted.addWeight(rowKey(v), v, 1)
    yield* this.lookupRows(wanted).iter()
  }

  *iterByIndex<K>(index: Index<T, K>, matchKeys?: Iterable<K>): Iterable<[K, T, number]> {
    const i = this.indexNumber(index as Index<T, unknown>)
    if (i < 0) {
      yield* this.toZSet().iterByIndex(index, matchKeys)
      return
    }
    if (matchKeys === undefined) {
      for (const row of this.scan(index as Index<T, unknown>)) yield [index.key(row.value), row.value, row.weight]
      return
    }
    const encoded = [...new Set([...matchKeys].map((k) => index.encodeKey(k)))].sort()
    keys.reset()
    for (const k of encoded) keys.push(k, 'latin1')
    const { slots, weights } = this.native.lookupByKeys(i, keys.bytes(), keys.offsetArray())
    for (let k = 0; k < slots.length; k++) {
      const value = this.rows[slots[k]!]!
      yield [index.key(value), value, weights[k]!]
    }
  }
}
