/** integrate, integrateIndexed, integrateDelay and caches (reference test_integrate_2 and the cache reads). */
import * as st from '../../src/index.js'
import { storeTest } from '../helpers/stores.js'
import { assertRows, byIndex, collect } from '../helpers/zsets.js'
import { type Animal, fido } from '../helpers/animals.js'

storeTest('integrate: object rows accumulate their weights (reference test_integrate_2)', async (t, open) => {
  const graph = st.compile([st.input<Animal>()], (a) => st.integrate(a))
  const store = await open(graph)
  const [animals] = st.actions(store, graph)
  await assertRows(t, (await animals.insert(fido))[0], [[fido, 1]])
  await assertRows(t, (await animals.insert(fido))[0], [[fido, 2]])
  await assertRows(t, (await animals.insert(fido))[0], [[fido, 3]])
  await assertRows(t, (await animals.remove(fido))[0], [[fido, 2]])
})

type Ev = { user: string; at: number }
const byUser = st.index<Ev>((e) => e.user)
const byAt = st.index<Ev>((e) => e.at, { ascending: false })

storeTest('integrateIndexed: the integral read in index order', async (t, open) => {
  const graph = st.compile([st.input<Ev>()], (a) => st.integrateIndexed(a, [byUser, byAt]))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await a.insert({ user: 'b', at: 1 }, { user: 'a', at: 3 })
  const [out] = await a.insert({ user: 'c', at: 2 }, { user: 'a', at: 3 })
  t.deepEqual(await byIndex(out, byUser), [
    ['a', { user: 'a', at: 3 }, 2],
    ['b', { user: 'b', at: 1 }, 1],
    ['c', { user: 'c', at: 2 }, 1],
  ])
  t.deepEqual(await byIndex(out, byAt), [
    [3, { user: 'a', at: 3 }, 2],
    [2, { user: 'c', at: 2 }, 1],
    [1, { user: 'b', at: 1 }, 1],
  ])
  t.deepEqual(await byIndex(out, byUser, ['c', 'zzz', 'b']), [
    ['b', { user: 'b', at: 1 }, 1],
    ['c', { user: 'c', at: 2 }, 1],
  ])
})

storeTest('cache: integrate and integrateIndexed keep the view in the store, read by index', async (t, open) => {
  const all = st.cache<Ev>()
  const indexed = st.cache<Ev>()
  const graph = st.compile([st.input<Ev>()], (a) => {
    all.integrate(a)
    indexed.integrateIndexed(a, [byUser, byAt], { name: 'events' })
    return a
  })
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await a.insert({ user: 'x', at: 1 }, { user: 'y', at: 2 })
  await a.insert({ user: 'x', at: 1 })
  await a.remove({ user: 'y', at: 2 })
  await assertRows(t, all.zset(store), [[{ user: 'x', at: 1 }, 2]])
  await assertRows(t, indexed.zset(store), [[{ user: 'x', at: 1 }, 2]])
  t.deepEqual(await collect(all.zset(store).iter([{ user: 'x', at: 1 }, { user: 'q', at: 0 }])), [[{ user: 'x', at: 1 }, 2]])
  t.deepEqual(await byIndex(indexed.zset(store), byUser, ['x']), [['x', { user: 'x', at: 1 }, 2]])
  t.deepEqual(await byIndex(indexed.zset(store), byUser, ['y']), [])
  // a failed iteration leaves the cache as it was
  await t.throwsAsync(a.insert({ user: 'z', at: Number.NaN }), { instanceOf: st.InvalidValueError })
  await assertRows(t, indexed.zset(store), [[{ user: 'x', at: 1 }, 2]])
})

storeTest('scalar streams: makeScalar, differentiate, integrate and makeSet', async (t, open) => {
  const graph = st.compile([st.input<number>()], (a) => {
    // the integral of a top-level reduce is the current total, one row
    const total = st.makeScalar(st.integrate(st.reduce(a, { zero: () => 0, pick: (n) => n })), { zero: () => 0 })
    const change = st.differentiate(total)
    return [st.makeSet(change), st.makeSet(st.integrate(change)), st.makeSet(st.add(total, st.neg(st.delay(total))))]
  })
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  const step = async (p: Promise<st.ZSet<number>[]>, change: number, total: number) => {
    const [c, tot, c2] = await p
    await assertRows(t, c, [[change, 1]])
    await assertRows(t, tot, [[total, 1]])
    await assertRows(t, c2, [[change, 1]])
  }
  await step(a.insert(3), 3, 3)
  await step(a.insert(4, 5), 9, 12)
  await step(a.remove(3), -3, 9)
  await step(a.remove(4, 5), -9, 0)
})

storeTest('cache: rows with equal keys are read in identity-hash order (docs/encoding.md), whatever the insertion order', async (t, open) => {
  type Row = { k: number; v: string }
  const byK = st.index<Row>((r) => r.k)
  const rows: Row[] = ['d', 'b', 'a', 'c', 'e'].map((v) => ({ k: 1, v }))
  const expected = [...rows].sort((a, b) => (st.identityHash(a) < st.identityHash(b) ? -1 : 1)).map((r) => [1, r, 1])
  for (const order of [rows, [...rows].reverse()]) {
    const cached = st.cache<Row>()
    const graph = st.compile([st.input<Row>()], (a) => cached.integrateIndexed(a, [byK]))
    const store = await open(graph)
    const [a] = st.actions(store, graph)
    for (const r of order) await a.insert(r)
    t.deepEqual(await byIndex(cached.zset(store), byK), expected)
    t.deepEqual(await byIndex(cached.zset(store), byK, [1]), expected)
  }
})
