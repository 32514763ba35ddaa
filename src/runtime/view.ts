/**
 * Lazy ZSets: the value of a delay is the whole state at t−1 (for an integral,
 * everything so far). Reading it all every step would make an iteration cost
 * O(state); operators that only need part of it (join: rows with given keys,
 * distinct: given rows, firstN: the first rows in order) read through a view,
 * which the store answers with one batched query.
 */
import { entryId, sortTies, type Entry, ZSet } from '../zset/zset.js'
import { GROUP_KEY_INDEX, type Index } from '../zset/indexes.js'
import { splitByKey } from '../zset/state.js'
import { FlatRowsBuilder, noRows, reweighted, type RowsByKey, withExtraRows } from '../zset/rowsByKey.js'
import { rowKey } from '../values/encode.js'
import { pair } from '../values/value.js'

export interface ScanRow<T> {
  readonly keyEnc: string
  /** The row's identity hash (hex): orders rows with equal keys. */
  readonly tie: string
  readonly value: T
  readonly weight: number
}

/** What a store offers for reading one delay vertex's state within a transaction. */
export interface StateReader<T> {
  /** The rows under each of `encodedKeys` (distinct), key by key (one batched read). */
  lookupEach(index: Index<T, unknown>, encodedKeys: readonly string[]): Promise<RowsByKey<T>>
  lookupRows(rows: ZSet<T>): Promise<ZSet<T>>
  scan(index: Index<T, unknown>): AsyncIterable<ScanRow<T>>
  readAll(): Promise<ZSet<T>>
}

/**
 * A state read as its support: the rows of positive weight, each once. An
 * integral of distinct's output is the support of distinct's own integral
 * (graph/sharedState.ts), so it is read this way instead of being stored.
 */
export function supportOf<T>(state: StateReader<T>): StateReader<T> {
  return new SupportReader(state)
}

// Readers are made for every delay a step reads: classes, not objects of closures, which cost
// an allocation each (and under tsx, whose keepNames wraps each in __name, a defineProperty).
class SupportReader<T> implements StateReader<T> {
  constructor(private readonly state: StateReader<T>) {}

  async lookupEach(index: Index<T, unknown>, encodedKeys: readonly string[]): Promise<RowsByKey<T>> {
    return reweighted(await this.state.lookupEach(index, encodedKeys), positiveOnce)
  }

  async lookupRows(rows: ZSet<T>): Promise<ZSet<T>> {
    return support(await this.state.lookupRows(rows))
  }

  async *scan(index: Index<T, unknown>): AsyncIterable<ScanRow<T>> {
    for await (const row of this.state.scan(index)) if (row.weight > 0) yield row.weight === 1 ? row : { ...row, weight: 1 }
  }

  async readAll(): Promise<ZSet<T>> {
    return support(await this.state.readAll())
  }
}

function positiveOnce(weight: number): number {
  return weight > 0 ? 1 : 0
}

function support<T>(z: ZSet<T>): ZSet<T> {
  const out = new ZSet<T>()
  for (const e of z.entries.values()) if (e.weight > 0) out.addWeight(e.key, e.value, 1)
  return out
}

/**
 * A perGroup reduce's totals, `{ left: { sum, count }, right: key }` rows, read
 * as the pairs (sum, key) its flattened output integrates to: none for a group
 * whose count is 0 (graph/sharedState.ts). Read by the group key, the totals'
 * own index; by any other index, whole.
 */
export function groupTotalsOf<T>(state: StateReader<unknown>): StateReader<T> {
  return new GroupTotalsReader<T>(state)
}

class GroupTotalsReader<T> implements StateReader<T> {
  constructor(private readonly state: StateReader<unknown>) {}

  async lookupEach(index: Index<T, unknown>, encodedKeys: readonly string[]): Promise<RowsByKey<T>> {
    if (index.id !== GROUP_KEY_INDEX.id) return splitByKey(await this.readAll(), index, encodedKeys)
    const rows = await this.state.lookupEach(GROUP_KEY_INDEX as Index<unknown, unknown>, encodedKeys)
    const out = new FlatRowsBuilder<T>()
    for (let k = 0; k < rows.keyCount; k++) {
      for (let j = 0, n = rows.count(k); j < n; j++) {
        const value = pairOf<T>(rows.value(k, j))
        if (value !== undefined) out.push(value, rows.weight(k, j))
      }
      out.endKey()
    }
    return out.finish()
  }

  async lookupRows(rows: ZSet<T>): Promise<ZSet<T>> {
    const z = await this.readAll()
    const out = new ZSet<T>()
    for (const e of rows.entries.values()) {
      const found = z.entries.get(e.key)
      if (found) out.addWeight(found.key, found.value, found.weight)
    }
    return out
  }

  async *scan(index: Index<T, unknown>): AsyncIterable<ScanRow<T>> {
    yield* ZSetView.of(await this.readAll()).scan(index)
  }

  async readAll(): Promise<ZSet<T>> {
    const out = new ZSet<T>()
    for (const e of (await this.state.readAll()).entries.values()) {
      const value = pairOf<T>(e.value)
      if (value !== undefined) out.addWeight(rowKey(value), value, e.weight)
    }
    return out
  }
}

/** A totals row as its pair, or undefined for a group whose count is 0. */
function pairOf<T>(totals: unknown): T | undefined {
  const { left, right } = totals as Totals
  return left.count === 0 ? undefined : (pair(left.sum, right) as T)
}

type Totals = { left: { sum: unknown; count: number }; right: unknown }

/** A ZSet known as `state + delta`, read lazily. */
export class ZSetView<T> {
  constructor(
    readonly state: StateReader<T> | undefined,
    readonly delta: ZSet<T>,
    /** The delay vertex whose state this is (so its write can be a delta). */
    readonly owner?: unknown,
  ) {}

  /**
   * True when this is (a step of) an integral: the owning delay stores a sum
   * that grows with every step, `delay(add(delay, change))`. Otherwise the
   * delay holds just the previous step's value, usually small.
   */
  get isIntegral(): boolean {
    const owner = this.owner as { inputs: { kind: string; inputs: unknown[] }[] } | undefined
    const input = owner?.inputs[0]
    return input?.kind === 'add' && input.inputs.includes(owner)
  }

  static of<T>(z: ZSet<T>): ZSetView<T> {
    return new ZSetView<T>(undefined, z)
  }

  plus(z: ZSet<T>): ZSetView<T> {
    return new ZSetView(this.state, this.delta.isEmpty() ? z : this.delta.add(z), this.owner)
  }

  /**
   * The rows under each of `encodedKeys` (distinct), one list per key, state
   * and delta rows side by side and not consolidated: for bilinear readers
   * (joins), which need neither one entry per row nor each row's key again.
   */
  async lookupEach(index: Index<T, unknown>, encodedKeys: readonly string[]): Promise<RowsByKey<T>> {
    const rows = this.state ? await this.state.lookupEach(index, encodedKeys) : noRows<T>(encodedKeys.length)
    if (this.delta.entryCount === 0) return rows
    const at = new Map(encodedKeys.map((k, i) => [k, i]))
    const extra: Entry<T>[][] = []
    let any = false
    for (const e of this.delta.eachEntry()) {
      const i = at.get(index.encodeKey(index.key(e.value)))
      if (i === undefined) continue
      ;(extra[i] ??= []).push(e)
      any = true
    }
    return any ? withExtraRows(rows, extra) : rows
  }

  async lookupRows(rows: ZSet<T>): Promise<ZSet<T>> {
    const out = this.state ? await this.state.lookupRows(rows) : new ZSet<T>()
    for (const e of rows.entries.values()) {
      const d = this.delta.entries.get(e.key)
      if (d) out.addWeight(d.key, d.value, d.weight)
    }
    return out
  }

  /**
   * Rows in index order with state and delta weights combined; rows whose
   * weight cancels are skipped. Rows with equal keys come by identity hash
   * (`tie`), from the store and from the delta alike: the merge relies on it,
   * so a store whose scan breaks that order is reported here, rather than
   * silently interleaving wrongly (which made firstN pick the wrong rows when
   * the native state table ordered ties by canonical bytes).
   */
  async *scan(index: Index<T, unknown>): AsyncIterable<ScanRow<T>> {
    const delta = sortedDelta(this.delta, index)
    let i = 0
    const cmp = (a: ScanRow<T>, b: ScanRow<T>): number =>
      a.keyEnc < b.keyEnc ? -1 : a.keyEnc > b.keyEnc ? 1 : a.tie < b.tie ? -1 : a.tie > b.tie ? 1 : 0
    if (this.state) {
      let previous: ScanRow<T> | undefined
      for await (const row of this.state.scan(index)) {
        if (previous !== undefined && cmp(previous, row) >= 0) {
          throw new Error(
            `internal: a state scan by index "${index.name}" is out of order ` +
              `(rows must come by key, then by identity hash): the store is broken`,
          )
        }
        previous = row
        while (i < delta.length && cmp(delta[i]!, row) < 0) yield delta[i++]!
        if (i < delta.length && cmp(delta[i]!, row) === 0) {
          const w = row.weight + delta[i++]!.weight
          if (w !== 0) yield { ...row, weight: w }
        } else {
          yield row
        }
      }
    }
    while (i < delta.length) yield delta[i++]!
  }

  async materialize(): Promise<ZSet<T>> {
    if (!this.state) return this.delta
    const all = await this.state.readAll()
    all.addInPlace(this.delta)
    return all
  }
}

function sortedDelta<T>(z: ZSet<T>, index: Index<T, unknown>): ScanRow<T>[] {
  const byKey = new Map<string, Entry<T>[]>()
  for (const e of z.entries.values()) {
    const k = index.encodeKey(index.key(e.value))
    const list = byKey.get(k)
    if (list) list.push(e)
    else byKey.set(k, [e])
  }
  const out: ScanRow<T>[] = []
  for (const k of [...byKey.keys()].sort()) {
    for (const e of sortTies(byKey.get(k)!)) {
      out.push({ keyEnc: k, tie: entryId(e), value: e.value, weight: e.weight })
    }
  }
  return out
}

export type Value = ZSet<unknown> | ZSetView<unknown> | GroupedValue | unknown

/** The value of a grouped stream in one step: only the groups that changed. */
export type GroupedValue = Map<string, { key: unknown; value: unknown }>

export async function materialize<T>(v: ZSet<T> | ZSetView<T>): Promise<ZSet<T>> {
  return v instanceof ZSetView ? v.materialize() : v
}

/**
 * Every lazy value of `values` read whole, one after the other: reads share the
 * store's one connection, and a PostgreSQL client must not be given a query
 * while another is running (deprecated in pg 8, an error in pg 9).
 */
export async function materializeEach(values: readonly unknown[]): Promise<unknown[]> {
  const out: unknown[] = []
  for (const v of values) out.push(v instanceof ZSetView ? await v.materialize() : v)
  return out
}
