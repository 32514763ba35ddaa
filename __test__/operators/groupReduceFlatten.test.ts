/** groupReduceFlatten: SQL `SELECT SUM(..), key GROUP BY key`, with our retraction rule (API.md, "Where we differ"). */
import * as st from '../../src/index.js'
import { storeTest } from '../helpers/stores.js'
import { assertRows } from '../helpers/zsets.js'

type Item = { basket: number; price: number }
const byBasket = st.index<Item>((i) => i.basket)

const totals = () =>
  st.compile([st.input<Item>()], (items) => st.groupReduceFlatten(items, { by: byBasket, zero: () => 0, pick: (i) => i.price }))

storeTest('groupReduceFlatten: one row per group, updated as rows come and go', async (t, open) => {
  const graph = totals()
  const store = await open(graph)
  const [items] = st.actions(store, graph)
  await assertRows(t, (await items.insert({ basket: 1, price: 3 }, { basket: 2, price: 4 }, { basket: 1, price: 5 }))[0], [
    [st.pair(8, 1), 1],
    [st.pair(4, 2), 1],
  ])
  await assertRows(t, (await items.replace({ basket: 1, price: 3 }, { basket: 2, price: 3 }))[0], [
    [st.pair(8, 1), -1],
    [st.pair(5, 1), 1],
    [st.pair(4, 2), -1],
    [st.pair(7, 2), 1],
  ])
})

storeTest('groupReduceFlatten: removing the last row of a group retracts the group (stepping keeps zero())', async (t, open) => {
  const graph = totals()
  const store = await open(graph)
  const [items] = st.actions(store, graph)
  await items.insert({ basket: 1, price: 3 }, { basket: 1, price: 4 })
  await assertRows(t, (await items.remove({ basket: 1, price: 3 }))[0], [
    [st.pair(7, 1), -1],
    [st.pair(4, 1), 1],
  ])
  // The reference would emit { left: 0, right: 1 } with weight +1 here.
  await assertRows(t, (await items.remove({ basket: 1, price: 4 }))[0], [[st.pair(4, 1), -1]])
  await assertRows(t, (await items.insert({ basket: 1, price: 2 }))[0], [[st.pair(2, 1), 1]])
})

storeTest('groupReduceFlatten: a group whose rows sum to zero keeps its row', async (t, open) => {
  const graph = totals()
  const store = await open(graph)
  const [items] = st.actions(store, graph)
  await assertRows(t, (await items.insert({ basket: 9, price: 5 }, { basket: 9, price: -5 }))[0], [[st.pair(0, 9), 1]])
  await assertRows(t, (await items.insert({ basket: 9, price: 0 }))[0], [])
  await assertRows(t, (await items.remove({ basket: 9, price: 5 }, { basket: 9, price: -5 }))[0], [])
  await assertRows(t, (await items.remove({ basket: 9, price: 0 }))[0], [[st.pair(0, 9), -1]])
})

storeTest('groupReduceFlatten: ZSet-valued reduce retracts an emptied group too', async (t, open) => {
  type Tag = { post: number; tag: string }
  const graph = st.compile([st.input<Tag>()], (tags) =>
    st.integrate(
      st.groupReduceFlatten(tags, { by: st.index<Tag>((x) => x.post), zero: () => st.zset<string>(), pick: (x) => st.zset([[x.tag, 1]]) }),
    ),
  )
  const store = await open(graph)
  const [tags] = st.actions(store, graph)
  await tags.insert({ post: 1, tag: 'a' }, { post: 1, tag: 'b' }, { post: 2, tag: 'a' })
  await assertRows(t, (await tags.remove({ post: 1, tag: 'a' }))[0], [
    [st.pair(st.zset([['b', 1]]), 1), 1],
    [st.pair(st.zset([['a', 1]]), 2), 1],
  ])
  // stepping would keep { left: <empty ZSet>, right: 1 }
  await assertRows(t, (await tags.remove({ post: 1, tag: 'b' }))[0], [[st.pair(st.zset([['a', 1]]), 2), 1]])
})

storeTest('groupReduceFlatten: a group keeps its running total across steps for every kind of `by` (path, composite, computed, descending)', async (t, open) => {
  type Sale = { shop: string; day: number; amount: number }
  const bys = [
    st.index<Sale>((s) => s.shop),
    st.index<Sale>((s) => [s.shop, s.day]),
    st.index<Sale>((s) => [s.shop, s.day], { ascending: [true, false] }),
    st.index<Sale>((s) => `${s.shop}/${s.day}`, { name: 'shop_day' }),
    st.index<Sale>((s) => [s.shop, s.day], { name: 'shop_day_pair', ascending: [true, true] }),
  ]
  for (const by of bys) {
    const graph = st.compile([st.input<Sale>()], (sales) => st.groupReduceFlatten(sales, { by, zero: () => 0, pick: (s) => s.amount }))
    const store = await open(graph)
    const [sales] = st.actions(store, graph)
    const key = (s: Sale) => by.key(s)
    const a = { shop: 'a', day: 1, amount: 5 }
    await sales.insert(a)
    const b = { shop: 'a', day: 1, amount: 7 }
    // The second step must find the first step's total (5) under the same group key.
    await assertRows(t, (await sales.insert(b))[0], [
      [st.pair(5, key(a)), -1],
      [st.pair(12, key(a)), 1],
    ])
    await assertRows(t, (await sales.remove(a, b))[0], [[st.pair(12, key(a)), -1]])
  }
})
