/** The runtime: iteration, actions, outputs owned by the caller, one iteration at a time. */
import * as st from '../src/index.js'
import { storeTest } from './helpers/stores.js'
import { assertRows, byIndex } from './helpers/zsets.js'

storeTest('iteration: one change per input in, one change per output out', async (t, open) => {
  const graph = st.compile([st.input<number>(), st.input<string>()], (a, b) => [b, st.map(a, (n) => n * 2), a])
  const store = await open(graph)
  const [bs, doubled, as] = await st.iteration(store, graph, [st.zset([[1, 1], [2, -1]]), st.zset([['x', 3]])])
  await assertRows(t, bs, [['x', 3]])
  await assertRows(t, doubled, [
    [2, 1],
    [4, -1],
  ])
  await assertRows(t, as, [
    [1, 1],
    [2, -1],
  ])
  const empty = await st.iteration(store, graph, [st.zset(), st.zset()])
  for (const z of empty as st.ZSet<unknown>[]) await assertRows(t, z, [])
})

storeTest('actions: insert, remove, replace and apply are single iterations', async (t, open) => {
  const graph = st.compile([st.input<string>(), st.input<number>()], (a, b) => [st.integrate(a), st.integrate(b)])
  const store = await open(graph)
  const [a, b] = st.actions(store, graph)
  await a.insert('x', 'y', 'x')
  const [as, bs] = await b.insert(1)
  await assertRows(t, as, [
    ['x', 2],
    ['y', 1],
  ])
  await assertRows(t, bs, [[1, 1]])
  await assertRows(t, (await a.replace('x', 'z'))[0], [
    ['x', 1],
    ['y', 1],
    ['z', 1],
  ])
  // replacing a row by an equal one changes nothing
  await assertRows(t, (await a.replace('y', 'y'))[0], [
    ['x', 1],
    ['y', 1],
    ['z', 1],
  ])
  await assertRows(t, (await a.remove('x', 'y'))[0], [['z', 1]])
  await assertRows(t, (await a.apply([['q', 2], ['z', -1]], { time: st.time({ inputTime: 1 }) }))[0], [['q', 2]])
})

storeTest('iterations started together run one at a time, in call order', async (t, open) => {
  const graph = st.compile([st.input<number>()], (a) => st.integrate(a))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  const outs = await Promise.all([a.insert(1), a.insert(2), a.remove(1), a.insert(3)])
  await assertRows(t, outs[0]![0], [[1, 1]])
  await assertRows(t, outs[1]![0], [
    [1, 1],
    [2, 1],
  ])
  await assertRows(t, outs[2]![0], [[2, 1]])
  await assertRows(t, outs[3]![0], [
    [2, 1],
    [3, 1],
  ])
})

storeTest('a failed iteration in a concurrent batch does not disturb the others', async (t, open) => {
  const graph = st.compile([st.input<number>()], (a) => st.integrate(st.map(a, (n) => (n < 0 ? Number.NaN : n))))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  const results = await Promise.allSettled([a.insert(1), a.insert(-1), a.insert(2)])
  t.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  )
  await assertRows(t, (results[2] as PromiseFulfilledResult<st.ZSet<number>[]>).value[0], [
    [1, 1],
    [2, 1],
  ])
})

storeTest('outputs are the caller\'s: later iterations do not change them', async (t, open) => {
  const idx = st.index.identity<number>()
  const graph = st.compile([st.input<number>()], (a) => [st.integrate(a), st.integrateIndexed(a, [idx]), st.delay(st.integrate(a)), a])
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  const first = await a.insert(1)
  await a.insert(1, 2)
  await a.remove(1)
  await assertRows(t, first[0], [[1, 1]])
  await assertRows(t, first[1], [[1, 1]])
  t.deepEqual(await byIndex(first[1], idx), [[1, 1, 1]])
  await assertRows(t, first[2], [])
  await assertRows(t, first[3], [[1, 1]])
})

storeTest('index keys of every kind: null, booleans, bigints, dates, strings, tuples', async (t, open) => {
  type Row = { key: unknown; n: number }
  const byKey = st.index<Row>((r) => r.key)
  const graph = st.compile([st.input<Row>()], (a) => st.integrateIndexed(st.groupReduceFlatten(a, { by: byKey, zero: () => 0, pick: (r) => r.n }), []))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  const keys = [null, false, true, -1.5, 2, 10n, 'b', 'a', new Date(0), [1, 'x'], { o: 1 }]
  const [out] = await a.insert(...keys.map((key, n) => ({ key, n })))
  await assertRows(
    t,
    out,
    keys.map((key, n) => [st.pair(n, key), 1] as const),
  )
  // key order: null < false < true < numbers < strings < dates (docs/encoding.md)
  const byRight = st.index<st.Pair<number, unknown>>((p) => p.right)
  const ordered = (await byIndex(out, byRight)).map(([k]) => k)
  t.deepEqual(ordered.slice(0, 9), [null, false, true, -1.5, 2, 10n, 'a', 'b', new Date(0)])
})

storeTest('transitiveClosure: inserts on a cyclic graph reach the fixed point', async (t, open) => {
  const graph = st.compile([st.input<st.Pair<number, number>>()], (a) => st.integrate(st.transitiveClosure(a)))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await a.insert(st.pair(1, 2), st.pair(2, 3))
  const [out] = await a.insert(st.pair(3, 1))
  const all: (readonly [st.Pair<number, number>, number])[] = []
  for (const x of [1, 2, 3]) for (const y of [1, 2, 3]) all.push([st.pair(x, y), 1])
  await assertRows(t, out, all)
})
