/** map and mapMany: linear, so the change of the output is the mapped change. */
import * as st from '../../src/index.js'
import { storeTest } from '../helpers/stores.js'
import { assertRows } from '../helpers/zsets.js'

storeTest('map: maps each change, consolidating rows that map to the same value', async (t, open) => {
  const graph = st.compile([st.input<string>()], (a) => st.map(a, (s) => s.length))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert('cat', 'dog', 'ca'))[0], [
    [3, 2],
    [2, 1],
  ])
  await assertRows(t, (await a.replace('cat', 'ox'))[0], [
    [3, -1],
    [2, 1],
  ])
  // a replace that maps to the same value cancels out
  await assertRows(t, (await a.replace('dog', 'cow'))[0], [])
})

storeTest('map: can build pairs, dates, sets, bigints and nested rows', async (t, open) => {
  type In = { id: number; at: string }
  const graph = st.compile([st.input<In>()], (a) =>
    st.map(a, (r) => ({ key: st.pair(r.id, BigInt(r.id) * 10n), when: new Date(r.at), tags: new Set([r.id, r.id + 1]) })),
  )
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  const [out] = await a.insert({ id: 1, at: '2023-01-01T00:00:00Z' })
  await assertRows(t, out, [[{ key: { left: 1, right: 10n }, when: new Date('2023-01-01T00:00:00Z'), tags: new Set([2, 1]) }, 1]])
})

storeTest('mapMany: each row becomes any number of rows (any iterable)', async (t, open) => {
  const graph = st.compile([st.input<string>()], (a) =>
    st.mapMany(a, function* (s) {
      for (const c of s) yield c
    }),
  )
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert('aab', ''))[0], [
    ['a', 2],
    ['b', 1],
  ])
  await assertRows(t, (await a.apply([['ab', -2]]))[0], [
    ['a', -2],
    ['b', -2],
  ])
  const graph2 = st.compile([st.input<number>()], (a) => st.mapMany(a, (n) => new Set([n, n * 2])))
  const store2 = await open(graph2)
  const [b] = st.actions(store2, graph2)
  await assertRows(t, (await b.insert(1, 2))[0], [
    [1, 1],
    [2, 2],
    [4, 1],
  ])
})
