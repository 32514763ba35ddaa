/**
 * Reading stepping's results into the oracle's plain bags, and asserting on
 * them. Works for in-memory ZSets and for the async readers SQL stores return.
 */
import type { ExecutionContext } from 'ava'
import * as st from '../../src/index.js'
import { type Bag, addTo, bag, show, signature } from './oracle.js'

/** A stepping value with every nested ZSet turned into an oracle Bag. */
export function plain(v: unknown): unknown {
  if (st.isZSet(v)) {
    const out: Bag = new Map()
    for (const [x, w] of v.iter()) addTo(out, plain(x), w)
    return out
  }
  if (Array.isArray(v)) return v.map(plain)
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
  }
  return v
}

type Rows<T> = Iterable<readonly [T, number]> | AsyncIterable<readonly [T, number]>

export async function collect<T>(it: Iterable<T> | AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it as AsyncIterable<T>) out.push(x)
  return out
}

/** A ZSet (or a cache reader, or [row, weight] pairs) as an oracle bag. */
export async function toBag<T>(z: st.ZSet<T> | st.CacheReader<T> | Rows<T>): Promise<Bag> {
  const rows: Rows<T> = typeof (z as st.CacheReader<T>).iter === 'function' ? ((z as st.ZSet<T>).iter() as Rows<T>) : (z as Rows<T>)
  const out: Bag = new Map()
  for await (const [v, w] of rows as AsyncIterable<readonly [T, number]>) addTo(out, plain(v), w)
  return out
}

/** Assert a ZSet holds exactly `expected` ([row, weight] pairs; nested ZSets compared by content). */
export async function assertRows<T>(
  t: ExecutionContext,
  actual: st.ZSet<T> | st.CacheReader<T> | Rows<T>,
  expected: Iterable<readonly [unknown, number]>,
  message?: string,
): Promise<void> {
  const a = await toBag(actual)
  const e = bag([...expected].map(([v, w]) => [plain(v), w] as const))
  t.deepEqual(signature(a), signature(e), `${message ?? 'rows differ'}\nactual:\n${show(a)}\nexpected:\n${show(e)}`)
}

/** `[key, row, weight]` triples of `iterByIndex`, nested ZSets made plain. */
export async function byIndex<T, K>(
  z: st.ZSet<T> | st.CacheReader<T>,
  index: st.Index<T, K>,
  keys?: Iterable<K>,
): Promise<[unknown, unknown, number][]> {
  const rows = await collect(z.iterByIndex(index, keys) as Iterable<[K, T, number]>)
  return rows.map(([k, v, w]) => [plain(k), plain(v), w])
}

/** A fixed-graph store's whole integrated output so far, kept by the test. */
export class Integral {
  readonly bag: Bag = new Map()
  async add<T>(z: st.ZSet<T>): Promise<void> {
    for (const [v, w] of z.iter()) addTo(this.bag, plain(v), w)
  }
}
