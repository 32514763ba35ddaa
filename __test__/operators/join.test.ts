/** join: reference test_join / test_join_2 (tests/run/test_further.py), plus composite keys and pinned names. */
import * as st from '../../src/index.js'
import { storeTest } from '../helpers/stores.js'
import { assertRows } from '../helpers/zsets.js'
import { type Animal, type Sound, felix, fido, miaow, onAnimal, onSound, woof } from '../helpers/animals.js'


storeTest('join: duplicates on the left, then a removal (reference test_join)', async (t, open) => {
  const graph = st.compile([st.input<Animal>(), st.input<Sound>()], (l, r) => st.join(l, r, { onLeft: onAnimal, onRight: onSound }))
  const store = await open(graph)
  const [animals, sounds] = st.actions(store, graph)

  await assertRows(t, (await animals.insert(felix))[0], [])
  await assertRows(t, (await animals.insert(felix))[0], [])
  await assertRows(t, (await sounds.insert(woof))[0], [])
  await assertRows(t, (await sounds.insert(miaow))[0], [[st.pair(felix, miaow), 2]])
  await assertRows(t, (await animals.insert(fido))[0], [[st.pair(fido, woof), 1]])
  await assertRows(t, (await animals.remove(felix))[0], [[st.pair(felix, miaow), -1]])
})

storeTest('join: both sides changing in one iteration counts each new pair once', async (t, open) => {
  const graph = st.compile([st.input<Animal>(), st.input<Sound>()], (l, r) => st.join(l, r, { onLeft: onAnimal, onRight: onSound }))
  const store = await open(graph)
  const [out1] = await st.iteration(store, graph, [st.zset([[felix, 1]]), st.zset([[miaow, 1]])])
  await assertRows(t, out1, [[st.pair(felix, miaow), 1]])
  const [out2] = await st.iteration(store, graph, [st.zset([[felix, -1], [fido, 3]]), st.zset([[woof, 2], [miaow, -1]])])
  // (felix − felix)⋈... : −felix⋈miaow from both sides' removal must be counted once.
  await assertRows(t, out2, [
    [st.pair(felix, miaow), -1],
    [st.pair(fido, woof), 6],
  ])
})

storeTest('join: on a composite key', async (t, open) => {
  type Read = { meter: string; day: string; value: number }
  type Price = { meter: string; day: string; pence: number }
  const graph = st.compile([st.input<Read>(), st.input<Price>()], (reads, prices) =>
    st.join(reads, prices, {
      onLeft: st.index<Read>((r) => [r.meter, r.day]),
      onRight: st.index<Price>((p) => [p.meter, p.day]),
    }),
  )
  const store = await open(graph)
  const [reads, prices] = st.actions(store, graph)
  const r1 = { meter: 'm1', day: '2023-01-01', value: 3 }
  const r2 = { meter: 'm1', day: '2023-01-02', value: 4 }
  const p1 = { meter: 'm1', day: '2023-01-01', pence: 10 }
  await reads.insert(r1, r2)
  await assertRows(t, (await prices.insert(p1))[0], [[st.pair(r1, p1), 1]])
  await assertRows(t, (await prices.insert({ meter: 'm2', day: '2023-01-02', pence: 1 }))[0], [])
  await assertRows(t, (await reads.replace(r1, { ...r1, value: 5 }))[0], [
    [st.pair(r1, p1), -1],
    [st.pair({ ...r1, value: 5 }, p1), 1],
  ])
})

storeTest('join: rows are matched structurally (key order of objects does not matter)', async (t, open) => {
  const graph = st.compile([st.input<Animal>(), st.input<Sound>()], (l, r) => st.join(l, r, { onLeft: onAnimal, onRight: onSound }))
  const store = await open(graph)
  const [animals, sounds] = st.actions(store, graph)
  await animals.insert({ soundId: 1, name: 'felix', kind: 'cat' })
  await sounds.insert(miaow)
  await assertRows(t, (await animals.remove(felix))[0], [[st.pair(felix, miaow), -1]])
})

storeTest('join: an input batch with repeated and cancelling rows reads back summed', async (t, open) => {
  const graph = st.compile([st.input<Animal>(), st.input<Sound>()], (l, r) => st.join(l, r, { onLeft: onAnimal, onRight: onSound }))
  const store = await open(graph)
  const [animals, sounds] = st.actions(store, graph)
  await sounds.insert(miaow, woof)
  // Batches reach the join unsummed (ZSet.unconsolidated): felix twice, fido in and out.
  await assertRows(t, (await animals.apply([[felix, 1], [fido, 1], [felix, 1], [fido, -1]]))[0], [[st.pair(felix, miaow), 2]])
  // The stored left side reads as felix with weight 2 and no fido at all (a log keeps a write's rows as given).
  await assertRows(t, (await sounds.remove(woof))[0], [])
  await assertRows(t, (await sounds.remove(miaow))[0], [[st.pair(felix, miaow), -2]])
  await assertRows(t, (await sounds.insert(woof, woof))[0], [])
})
