/**
 * Rows read from a state under a list of index keys: what a join reads of an
 * integral (paper §4, Theorem 5.5: each step reads the rows of I(a) matching
 * Δb's keys). Row j under key k has a value, a weight and a canonical text.
 *
 * Read by position, not handed out as one entry object per row: a join reads
 * each row once and needs only its value and weight (its text only when its
 * output is a ZSet). The pure-TS table already has an entry per row and lists
 * those (`EntryRows`); a native table keeps no JS object per row, so it hands
 * out the row objects it has beside one array of weights (`FlatRows`) instead
 * of making an object for every row read (bench/zset.ts, task (b) "as a join
 * reads state").
 */
import { rowKey } from '../values/encode.js'
import type { Entry, RowKey } from './zset.js'

export interface RowsByKey<T> {
  readonly keyCount: number
  /** How many rows key `k` has. */
  count(k: number): number
  /** Row `j` of key `k`. */
  value(k: number, j: number): T
  weight(k: number, j: number): number
  /** The row's canonical text (made from its value when the reader did not have it). */
  text(k: number, j: number): RowKey
  /** The row's canonical text if the reader had it, without making it. */
  knownText(k: number, j: number): RowKey | undefined
}

/** Rows as parallel arrays: values, weights (small integers where whole: see weightOf in native/state.ts) and, where known, texts. */
export class FlatRows<T> implements RowsByKey<T> {
  constructor(
    private readonly values: readonly T[],
    private readonly weights: readonly number[],
    /** Where each key's rows begin, and one more: where the last key's end. */
    private readonly starts: readonly number[],
    private readonly texts?: readonly (RowKey | undefined)[],
  ) {}

  get keyCount(): number {
    return this.starts.length - 1
  }

  count(k: number): number {
    return this.starts[k + 1]! - this.starts[k]!
  }

  value(k: number, j: number): T {
    return this.values[this.starts[k]! + j]!
  }

  weight(k: number, j: number): number {
    return this.weights[this.starts[k]! + j]!
  }

  text(k: number, j: number): RowKey {
    return this.knownText(k, j) ?? rowKey(this.value(k, j))
  }

  knownText(k: number, j: number): RowKey | undefined {
    return this.texts?.[this.starts[k]! + j]
  }
}

/** Rows as the entries a reader already had, a list per key (read, never changed). */
export class EntryRows<T> implements RowsByKey<T> {
  constructor(private readonly lists: readonly (readonly Entry<T>[])[]) {}

  get keyCount(): number {
    return this.lists.length
  }

  count(k: number): number {
    return this.lists[k]!.length
  }

  value(k: number, j: number): T {
    return this.lists[k]![j]!.value
  }

  weight(k: number, j: number): number {
    return this.lists[k]![j]!.weight
  }

  text(k: number, j: number): RowKey {
    return this.lists[k]![j]!.key
  }

  knownText(k: number, j: number): RowKey | undefined {
    return this.lists[k]![j]!.key
  }
}

/** Rows laid out flat, key by key, for a reader building them (`push` a key's rows, then `endKey`). */
export class FlatRowsBuilder<T> {
  private readonly values: T[] = []
  private readonly weights: number[] = []
  private readonly texts: (RowKey | undefined)[] = []
  private readonly starts = [0]

  push(value: T, weight: number, text?: RowKey): void {
    this.values.push(value)
    this.weights.push(weight)
    this.texts.push(text)
  }

  endKey(): void {
    this.starts.push(this.values.length)
  }

  finish(): FlatRows<T> {
    return new FlatRows(this.values, this.weights, this.starts, this.texts)
  }
}

/** `rows` with `extra[k]` appended under key k (a view's rows not yet stored); texts kept where known. */
export function withExtraRows<T>(rows: RowsByKey<T>, extra: readonly (readonly Entry<T>[] | undefined)[]): RowsByKey<T> {
  const out = new FlatRowsBuilder<T>()
  for (let k = 0; k < rows.keyCount; k++) {
    for (let j = 0, n = rows.count(k); j < n; j++) out.push(rows.value(k, j), rows.weight(k, j), rows.knownText(k, j))
    for (const e of extra[k] ?? []) out.push(e.value, e.weight, e.key)
    out.endKey()
  }
  return out.finish()
}

/** `rows` with each weight w made `weight(w)`, rows of weight 0 left out: the same object back when that changes nothing. */
export function reweighted<T>(rows: RowsByKey<T>, weight: (w: number) => number): RowsByKey<T> {
  let same = true
  for (let k = 0; k < rows.keyCount && same; k++) {
    for (let j = 0, n = rows.count(k); j < n; j++) {
      const w = weight(rows.weight(k, j))
      if (w !== rows.weight(k, j) || w === 0) {
        same = false
        break
      }
    }
  }
  if (same) return rows
  const out = new FlatRowsBuilder<T>()
  for (let k = 0; k < rows.keyCount; k++) {
    for (let j = 0, n = rows.count(k); j < n; j++) {
      const w = weight(rows.weight(k, j))
      if (w !== 0) out.push(rows.value(k, j), w, rows.knownText(k, j))
    }
    out.endKey()
  }
  return out.finish()
}

/** No rows under any of `keyCount` keys. */
export function noRows<T>(keyCount: number): RowsByKey<T> {
  return new EntryRows<T>(Array.from({ length: keyCount }, (): Entry<T>[] => []))
}

/** Key `k`'s rows as entries, for readers that keep them (a join does not need to). */
function entriesOf<T>(rows: RowsByKey<T>, k: number): Entry<T>[] {
  const out: Entry<T>[] = new Array(rows.count(k))
  for (let j = 0; j < out.length; j++) out[j] = { key: rows.text(k, j), value: rows.value(k, j), weight: rows.weight(k, j) }
  return out
}

/** Every key's rows as entries, a list per key. */
export function listsOf<T>(rows: RowsByKey<T>): Entry<T>[][] {
  const out: Entry<T>[][] = []
  for (let k = 0; k < rows.keyCount; k++) out.push(entriesOf(rows, k))
  return out
}
