/**
 * reduce and count: reference test_sum (tests/run/test_further.py), including
 * the cache read; reduce over bigints and ZSets; and the SQL GROUP BY rule for
 * reduce inside perGroup (API.md, "Where we differ").
 */
import * as st from '../../src/index.js'
import { storeTest } from '../helpers/stores.js'
import { assertRows, byIndex } from '../helpers/zsets.js'

type Product = { name: string; price: number }

storeTest('reduce + count joined, with a cache read by index (reference test_sum)', async (t, open) => {
  const indexJoined = st.index<st.Pair<number, number>>(() => 1, { name: 'one' })
  const cacheJoined = st.cache<st.Pair<number, number>>()
  const graph = st.compile([st.input<Product>()], (a) => {
    const summed = st.reduce(a, { zero: () => 0, pick: (p) => p.price })
    const counted = st.count(a)
    const joined = st.join(summed, counted, {
      onLeft: st.index<number>(() => 1, { name: 'left' }),
      onRight: st.index<number>(() => 1, { name: 'right' }),
    })
    cacheJoined.integrateIndexed(joined, [indexJoined])
    return st.map(joined, (p) => ['total', p.left, 'count', p.right] as const)
  })
  const store = await open(graph)
  const [products] = st.actions(store, graph)

  await assertRows(t, (await products.insert({ name: 'tv', price: 3 }))[0], [[['total', 3, 'count', 1], 1]])
  await assertRows(t, (await products.insert({ name: 'radio', price: 5 }))[0], [
    [['total', 3, 'count', 1], -1],
    [['total', 8, 'count', 2], 1],
  ])
  await assertRows(t, (await products.insert({ name: 'radio', price: 5 }))[0], [
    [['total', 8, 'count', 2], -1],
    [['total', 13, 'count', 3], 1],
  ])
  await assertRows(t, (await products.remove({ name: 'tv', price: 3 }))[0], [
    [['total', 13, 'count', 3], -1],
    [['total', 10, 'count', 2], 1],
  ])
  t.deepEqual(await byIndex(cacheJoined.zset(store), indexJoined, [1]), [[1, { left: 10, right: 2 }, 1]])
  t.deepEqual(await byIndex(cacheJoined.zset(store), indexJoined, [2]), [])
})

storeTest('reduce at the top level: an emptied input gives zero(), as in stepping', async (t, open) => {
  const graph = st.compile([st.input<Product>()], (a) => st.reduce(a, { zero: () => 0, pick: (p) => p.price }))
  const store = await open(graph)
  const [products] = st.actions(store, graph)
  await assertRows(t, (await products.insert({ name: 'tv', price: 3 }))[0], [[3, 1]])
  await assertRows(t, (await products.remove({ name: 'tv', price: 3 }))[0], [
    [3, -1],
    [0, 1],
  ])
  // no change to the sum, no output
  await assertRows(t, (await products.insert({ name: 'free', price: 0 }))[0], [])
})

storeTest('reduce over bigints', async (t, open) => {
  type Tx = { id: number; amount: bigint }
  const graph = st.compile([st.input<Tx>()], (a) => st.reduce(a, { zero: () => 0n, pick: (x) => x.amount }))
  const store = await open(graph)
  const [txs] = st.actions(store, graph)
  await assertRows(t, (await txs.insert({ id: 1, amount: 9007199254740993n }, { id: 2, amount: 2n }))[0], [[9007199254740995n, 1]])
  await assertRows(t, (await txs.remove({ id: 2, amount: 2n }))[0], [
    [9007199254740995n, -1],
    [9007199254740993n, 1],
  ])
})

storeTest('reduce to a ZSet (ARRAY_AGG): the value is a ZSet of the rows picked', async (t, open) => {
  const graph = st.compile([st.input<string>()], (a) => st.integrate(st.reduce(a, { zero: () => st.zset<string>(), pick: (s) => st.zset([[s, 1]]) })))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await a.insert('x', 'y')
  const [out] = await a.insert('x')
  await assertRows(t, out, [[st.zset([['x', 2], ['y', 1]]), 1]])
  const [value] = [...out.iter()].map(([v]) => v)
  t.true(st.isZSet(value))
  t.is(value!.count('x'), 2)
})

type Sale = { shop: string; amount: number }
const byShop = st.index<Sale>((s) => s.shop)

storeTest('perGroup + reduce: the last row of a group removed retracts its row (API.md: we differ from stepping)', async (t, open) => {
  // stepping keeps a { left: zero(), right: key } row for an emptied group; we
  // follow SQL GROUP BY and retract it.
  const graph = st.compile([st.input<Sale>()], (a) =>
    st.flatten(st.perGroup(st.group(a, { by: byShop }), (g) => st.reduce(g, { zero: () => 0, pick: (s) => s.amount }))),
  )
  const store = await open(graph)
  const [sales] = st.actions(store, graph)
  await assertRows(t, (await sales.insert({ shop: 'a', amount: 5 }, { shop: 'b', amount: 1 }))[0], [
    [st.pair(5, 'a'), 1],
    [st.pair(1, 'b'), 1],
  ])
  await assertRows(t, (await sales.remove({ shop: 'a', amount: 5 }))[0], [[st.pair(5, 'a'), -1]])
  // a group that comes back starts from zero again
  await assertRows(t, (await sales.insert({ shop: 'a', amount: 2 }))[0], [[st.pair(2, 'a'), 1]])
})

storeTest('perGroup + reduce: a group whose rows sum to zero still has its row', async (t, open) => {
  const graph = st.compile([st.input<Sale>()], (a) =>
    st.flatten(st.perGroup(st.group(a, { by: byShop }), (g) => st.reduce(g, { zero: () => 0, pick: (s) => s.amount }))),
  )
  const store = await open(graph)
  const [sales] = st.actions(store, graph)
  await assertRows(t, (await sales.insert({ shop: 'a', amount: 0 }))[0], [[st.pair(0, 'a'), 1]])
  await assertRows(t, (await sales.insert({ shop: 'a', amount: 3 }, { shop: 'a', amount: -3 }))[0], [])
  await assertRows(t, (await sales.remove({ shop: 'a', amount: 3 }))[0], [
    [st.pair(0, 'a'), -1],
    [st.pair(-3, 'a'), 1],
  ])
  await assertRows(t, (await sales.remove({ shop: 'a', amount: 0 }))[0], [])
  await assertRows(t, (await sales.remove({ shop: 'a', amount: -3 }))[0], [[st.pair(-3, 'a'), -1]])
})

storeTest('perGroup + count: an emptied group has no row', async (t, open) => {
  const graph = st.compile([st.input<Sale>()], (a) => st.integrate(st.flatten(st.perGroup(st.group(a, { by: byShop }), (g) => st.count(g)))))
  const store = await open(graph)
  const [sales] = st.actions(store, graph)
  await sales.insert({ shop: 'a', amount: 1 }, { shop: 'a', amount: 2 }, { shop: 'b', amount: 1 })
  await assertRows(t, (await sales.remove({ shop: 'b', amount: 1 }))[0], [[st.pair(2, 'a'), 1]])
  await assertRows(t, (await sales.remove({ shop: 'a', amount: 1 }, { shop: 'a', amount: 2 }))[0], [])
})
