/**
 * Cache retrieval from every store: `iterByIndex(index, keys?)` yields rows in
 * index order, equal to the memory store's, for every key type and direction
 * in testdata/vectors/keys.json (nulls, booleans, negatives, infinities,
 * bigints, unicode and NUL in strings, dates, tuples, objects; descending and
 * composite keys). Each key holds several rows, so the tie order (identity
 * hash) is checked too, and `iter(match)` agrees as well.
 */
import { readFileSync } from 'node:fs'
import test from 'ava'
import * as st from '../../src/index.js'
import { storeKinds } from '../helpers/stores.js'

interface OrderVector {
  composite: boolean
  ascending: boolean[]
  /** Keys as canonical texts, in the order the index must give. */
  sorted: string[]
}

const vectors = JSON.parse(readFileSync(new URL('../../testdata/vectors/keys.json', import.meta.url), 'utf8')) as { orders: OrderVector[] }

type Row = { k: unknown; tag: string } | { a: unknown; b: unknown; tag: string }

/** Deterministic shuffle, so rows go in out of order. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items]
  let s = seed
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff
    const j = s % (i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

async function collect<T>(it: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

vectors.orders.forEach((vector, n) => {
  const describe = `${vector.composite ? 'composite' : 'single'} ${vector.ascending.map((a) => (a ? 'asc' : 'desc')).join('/')}`
  const keys = vector.sorted.map((text) => st.decodeCanonical(text))
  const index = vector.composite
    ? st.index<Row>((r) => [(r as { a: unknown }).a, (r as { b: unknown }).b], { ascending: vector.ascending })
    : st.index<Row>((r) => (r as { k: unknown }).k, { ascending: vector.ascending[0] })
  const rowsFor = (key: unknown, tag: string): Row =>
    vector.composite ? { a: (key as unknown[])[0], b: (key as unknown[])[1], tag } : { k: key, tag }
  // Three rows per key (ties), weights 1..3, inserted shuffled.
  const rows = keys.flatMap((key, i) => ['x', 'y', 'z'].map((tag, j) => [rowsFor(key, `${tag}${i}`), j + 1] as const))

  test(`key order vector ${n} (${describe}): iterByIndex gives the same rows in the same order in every store`, async (t) => {
    const results = new Map<string, { all: unknown[]; some: unknown[]; matched: unknown[] }>()
    for (const kind of storeKinds) {
      const cache = st.cache<Row>()
      const graph = st.compile([st.input<Row>()], (s) => cache.integrateIndexed(s, [index]))
      const store = await kind.open(graph)
      try {
        const [input] = st.actions(store, graph)
        const order = shuffled(rows, 17 + n)
        // Two iterations, so that state and new rows meet.
        await input.apply(order.slice(0, order.length >> 1))
        await input.apply(order.slice(order.length >> 1))
        const reader = cache.zset(store)
        const all = (await collect(reader.iterByIndex(index))).map(([k, v, w]) => [st.canonical(k), st.canonical(v), w])
        const wantedKeys = keys.filter((_, i) => i % 3 !== 1)
        const some = (await collect(reader.iterByIndex(index, wantedKeys))).map(([k, v, w]) => [st.canonical(k), st.canonical(v), w])
        const matchRows = [rows[4]![0], rows[0]![0], rowsFor('no such key', 'none')]
        const matched = (await collect(reader.iter(matchRows))).map(([v, w]) => [st.canonical(v), w])
        results.set(kind.name, { all, some, matched })
        // The keys come in the order the vector gives, each three times.
        t.deepEqual(
          all.map(([k]) => k),
          vector.sorted.flatMap((k) => [k, k, k]),
          `${kind.name}: key order`,
        )
        t.is(matched.length, 2, `${kind.name}: iter(match) finds the present rows only`)
      } finally {
        await store.close()
      }
    }
    const memory = results.get('memory')!
    for (const [name, r] of results) {
      t.deepEqual(r.all, memory.all, `${name}: all rows, ties included, as in memory`)
      t.deepEqual(r.some, memory.some, `${name}: rows for some keys, as in memory`)
      t.deepEqual(r.matched, memory.matched, `${name}: iter(match) as in memory`)
    }
    t.is(results.size, 3)
  })
})
