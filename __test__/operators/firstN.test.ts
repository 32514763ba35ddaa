/** firstN: reference test_first_n / test_first_n_2 (tests/run/test_further.py), order and ties. */
import * as st from '../../src/index.js'
import { storeTest } from '../helpers/stores.js'
import { assertRows, byIndex } from '../helpers/zsets.js'

const identity = st.index.identity<number>()

/** Each row repeated by its weight, in index order (as the reference lists them). */
async function expand<T>(z: st.ZSet<T>, index: st.Index<T, unknown>): Promise<unknown[]> {
  return (await byIndex(z, index)).flatMap(([, v, w]) => Array<unknown>(w).fill(v))
}

storeTest('firstN: the first 3 over inserts and removes (reference test_first_n)', async (t, open) => {
  const graph = st.compile([st.input<number>()], (a) => st.integrateIndexed(st.firstN(a, { index: identity, n: 3 }), [identity]))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  const insert = async (n: number) => expand((await a.insert(n))[0], identity)
  const remove = async (n: number) => expand((await a.remove(n))[0], identity)

  t.deepEqual(await insert(1), [1])
  t.deepEqual(await insert(2), [1, 2])
  t.deepEqual(await insert(5), [1, 2, 5])
  t.deepEqual(await insert(4), [1, 2, 4])
  t.deepEqual(await insert(1), [1, 1, 2])
  t.deepEqual(await insert(-1), [-1, 1, 1])
  t.deepEqual(await remove(1), [-1, 1, 2])
})

storeTest('firstN: emits only the change to the first n', async (t, open) => {
  const graph = st.compile([st.input<number>()], (a) => st.firstN(a, { index: identity, n: 2 }))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert(5, 7, 9))[0], [
    [5, 1],
    [7, 1],
  ])
  await assertRows(t, (await a.insert(8))[0], [])
  await assertRows(t, (await a.insert(6))[0], [
    [6, 1],
    [7, -1],
  ])
  await assertRows(t, (await a.remove(5))[0], [
    [5, -1],
    [7, 1],
  ])
  await assertRows(t, (await a.remove(9))[0], [])
  await assertRows(t, (await a.remove(6, 7, 8))[0], [
    [6, -1],
    [7, -1],
  ])
})

storeTest('firstN: a descending index on a field, with n = 0 giving nothing', async (t, open) => {
  type Score = { player: string; points: number }
  const byPoints = st.index<Score>((s) => s.points, { ascending: false })
  const graph = st.compile([st.input<Score>()], (a) => [
    st.integrateIndexed(st.firstN(a, { index: byPoints, n: 2 }), [byPoints]),
    st.firstN(a, { index: byPoints, n: 0 }),
  ])
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await a.insert({ player: 'a', points: 10 }, { player: 'b', points: 30 })
  const [top, none] = await a.insert({ player: 'c', points: 20 })
  t.deepEqual(await byIndex(top, byPoints), [
    [30, { player: 'b', points: 30 }, 1],
    [20, { player: 'c', points: 20 }, 1],
  ])
  await assertRows(t, none, [])
})

storeTest('firstN: rows with equal keys are taken in one deterministic order, whatever the insertion order', async (t, open) => {
  type Row = { k: number; v: string }
  const byK = st.index<Row>((r) => r.k)
  const rows: Row[] = [
    { k: 1, v: 'd' },
    { k: 1, v: 'b' },
    { k: 0, v: 'z' },
    { k: 1, v: 'a' },
    { k: 1, v: 'c' },
  ]
  const taken: unknown[] = []
  for (const order of [rows, [...rows].reverse(), [rows[3]!, rows[0]!, rows[4]!, rows[2]!, rows[1]!]]) {
    const graph = st.compile([st.input<Row>()], (a) => st.firstN(a, { index: byK, n: 3 }))
    const store = await open(graph)
    const [a] = st.actions(store, graph)
    for (const r of order) await a.insert(r)
    const [out] = await a.insert({ k: 2, v: 'x' })
    await assertRows(t, out, [])
    // the whole first 3 as a cache would hold them
    const g2 = st.compile([st.input<Row>()], (a) => st.integrateIndexed(st.firstN(a, { index: byK, n: 3 }), [byK]))
    const s2 = await open(g2)
    let last = st.zset<Row>()
    for (const r of order) last = (await st.actions(s2, g2)[0].insert(r))[0]
    taken.push(await byIndex(last, byK))
  }
  // docs/encoding.md: rows with equal keys are ordered by identity hash
  const k1 = rows.filter((r) => r.k === 1).sort((a, b) => (st.identityHash(a) < st.identityHash(b) ? -1 : 1))
  const expected = [[0, { k: 0, v: 'z' }, 1], ...k1.slice(0, 2).map((r) => [1, r, 1])]
  t.deepEqual(taken, [expected, expected, expected])
})
