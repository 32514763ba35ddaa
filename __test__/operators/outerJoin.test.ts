/** outerJoin: reference test_outer_join (tests/run/test_further.py), and right-side duplicates. */
import * as st from '../../src/index.js'
import { storeTest } from '../helpers/stores.js'
import { assertRows } from '../helpers/zsets.js'
import { type Animal, type Sound, felix, fido, miaow, onAnimal, onSound, woof } from '../helpers/animals.js'

const outerGraph = () =>
  st.compile([st.input<Animal>(), st.input<Sound>()], (l, r) => st.outerJoin(l, r, { onLeft: onAnimal, onRight: onSound }))

storeTest('outerJoin: inserts and removes on both sides (reference test_outer_join)', async (t, open) => {
  const graph = outerGraph()
  const store = await open(graph)
  const [animals, sounds] = st.actions(store, graph)

  await assertRows(t, (await animals.insert(felix))[0], [[st.pair(felix, st.EMPTY), 1]])
  await assertRows(t, (await animals.insert(felix))[0], [[st.pair(felix, st.EMPTY), 1]])
  await assertRows(t, (await sounds.insert(woof))[0], [])
  await assertRows(t, (await sounds.insert(miaow))[0], [
    [st.pair(felix, miaow), 2],
    [st.pair(felix, st.EMPTY), -2],
  ])
  await assertRows(t, (await animals.insert(fido))[0], [[st.pair(fido, woof), 1]])
  await assertRows(t, (await sounds.remove(miaow))[0], [
    [st.pair(felix, miaow), -2],
    [st.pair(felix, st.EMPTY), 2],
  ])
  await assertRows(t, (await animals.remove(felix))[0], [[st.pair(felix, st.EMPTY), -1]])
})

storeTest('outerJoin: a left row matched by several right rows has no EMPTY row (SQL LEFT JOIN)', async (t, open) => {
  // stepping computes the unmatched lefts as `left − lefts(joined)`, which goes
  // negative when two right rows match one left row; API.md promises "left rows
  // without a match pair with EMPTY", so we hold our outerJoin to SQL semantics.
  const graph = outerGraph()
  const store = await open(graph)
  const [animals, sounds] = st.actions(store, graph)
  const purr: Sound = { soundId: 1, sound: 'purr' }
  await animals.insert(felix)
  await assertRows(t, (await sounds.insert(miaow, purr))[0], [
    [st.pair(felix, miaow), 1],
    [st.pair(felix, purr), 1],
    [st.pair(felix, st.EMPTY), -1],
  ])
  await assertRows(t, (await sounds.remove(miaow))[0], [[st.pair(felix, miaow), -1]])
  await assertRows(t, (await sounds.insert(miaow, miaow))[0], [[st.pair(felix, miaow), 2]])
  await assertRows(t, (await sounds.remove(purr, miaow, miaow))[0], [
    [st.pair(felix, miaow), -2],
    [st.pair(felix, purr), -1],
    [st.pair(felix, st.EMPTY), 1],
  ])
})

storeTest('outerJoin: on a composite, partly descending key', async (t, open) => {
  type Order = { shop: string; day: number; id: number }
  type Delivery = { shop: string; day: number; van: string }
  const graph = st.compile([st.input<Order>(), st.input<Delivery>()], (orders, deliveries) =>
    st.outerJoin(orders, deliveries, {
      onLeft: st.index<Order>((o) => [o.shop, o.day], { ascending: [true, false] }),
      onRight: st.index<Delivery>((d) => [d.shop, d.day], { ascending: [true, false] }),
    }),
  )
  const store = await open(graph)
  const [orders, deliveries] = st.actions(store, graph)
  const o1 = { shop: 'a', day: 1, id: 1 }
  const o2 = { shop: 'a', day: 2, id: 2 }
  const d1 = { shop: 'a', day: 1, van: 'x' }
  const d1b = { shop: 'a', day: 1, van: 'y' }
  await assertRows(t, (await orders.insert(o1, o2))[0], [
    [st.pair(o1, st.EMPTY), 1],
    [st.pair(o2, st.EMPTY), 1],
  ])
  await assertRows(t, (await deliveries.insert(d1, d1b))[0], [
    [st.pair(o1, d1), 1],
    [st.pair(o1, d1b), 1],
    [st.pair(o1, st.EMPTY), -1],
  ])
  await assertRows(t, (await deliveries.insert({ shop: 'b', day: 2, van: 'z' }))[0], [])
  await assertRows(t, (await deliveries.remove(d1, d1b))[0], [
    [st.pair(o1, d1), -1],
    [st.pair(o1, d1b), -1],
    [st.pair(o1, st.EMPTY), 1],
  ])
})

storeTest('outerJoin: a left row that arrives with its match, or whose match changes, reaches the next map once per output row', async (t, open) => {
  // Unmatched lefts are consolidated before they are paired with EMPTY: (l, EMPTY) +1 and −1
  // cancel there, so a costly function mapped over the result runs only for the rows it returns.
  const calls: string[] = []
  const graph = st.compile([st.input<Animal>(), st.input<Sound>()], (l, r) =>
    st.map(st.outerJoin(l, r, { onLeft: onAnimal, onRight: onSound }), (p) => {
      const sound = p.right === st.EMPTY ? '-' : (p.right as Sound).sound
      calls.push(`${p.left.name} ${sound}`)
      return { name: p.left.name, sound }
    }),
  )
  const store = await open(graph)
  const purr: Sound = { soundId: 1, sound: 'purr' }
  await assertRows(t, (await st.iteration(store, graph, [st.zset([[felix, 1]]), st.zset([[miaow, 1]])]))[0], [[{ name: 'felix', sound: 'miaow' }, 1]])
  t.deepEqual(calls.splice(0), ['felix miaow'])
  await assertRows(t, (await st.iteration(store, graph, [st.zset<Animal>([]), st.zset([[miaow, -1], [purr, 1]])]))[0], [
    [{ name: 'felix', sound: 'miaow' }, -1],
    [{ name: 'felix', sound: 'purr' }, 1],
  ])
  t.deepEqual(calls.splice(0).sort(), ['felix miaow', 'felix purr'])
  await assertRows(t, (await st.iteration(store, graph, [st.zset([[fido, 1]]), st.zset<Sound>([])]))[0], [[{ name: 'fido', sound: '-' }, 1]])
  t.deepEqual(calls.splice(0), ['fido -'])
})
