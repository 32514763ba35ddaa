/** delay (z⁻¹), delayIndexed, add, neg, haitch and identityPrint. */
import * as st from '../../src/index.js'
import { storeTest } from '../helpers/stores.js'
import { assertRows, byIndex } from '../helpers/zsets.js'

storeTest('delay: each step outputs the previous step\'s input', async (t, open) => {
  const graph = st.compile([st.input<string>()], (a) => st.delay(a))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert('x'))[0], [])
  await assertRows(t, (await a.insert('y', 'y'))[0], [['x', 1]])
  await assertRows(t, (await a.remove('z'))[0], [['y', 2]])
  await assertRows(t, (await st.iteration(store, graph, [st.zset()]))[0], [['z', -1]])
  await assertRows(t, (await st.iteration(store, graph, [st.zset()]))[0], [])
})

storeTest('delayIndexed: the delayed ZSet can be read by its index', async (t, open) => {
  const idx = st.index.identity<number>({ ascending: false })
  const graph = st.compile([st.input<number>()], (a) => st.delayIndexed(a, [idx]))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await a.insert(1, 3, 2)
  const [out] = await a.insert(9)
  t.deepEqual(await byIndex(out, idx), [
    [3, 3, 1],
    [2, 2, 1],
    [1, 1, 1],
  ])
})

storeTest('add and neg: pointwise sum and inverse of streams', async (t, open) => {
  const graph = st.compile([st.input<string>(), st.input<string>()], (a, b) => [st.add(a, b), st.neg(a), st.add(a, st.neg(a))])
  const store = await open(graph)
  const [sum, negA, zero] = await st.iteration(store, graph, [st.zset([['x', 2], ['y', 1]]), st.zset([['x', -2], ['z', 3]])])
  await assertRows(t, sum, [
    ['y', 1],
    ['z', 3],
  ])
  await assertRows(t, negA, [
    ['x', -2],
    ['y', -1],
  ])
  await assertRows(t, zero, [])
})

storeTest('haitch: +1 when a row becomes positive, −1 when it stops being positive', async (t, open) => {
  const graph = st.compile([st.input<string>(), st.input<string>()], (before, change) => st.haitch(before, change))
  const store = await open(graph)
  const [out] = await st.iteration(store, graph, [
    st.zset([['a', 1], ['b', -1], ['c', 2], ['d', 1]]),
    st.zset([['a', -1], ['b', 2], ['c', -1], ['e', 1], ['f', -1]]),
  ])
  await assertRows(t, out, [
    ['a', -1],
    ['b', 1],
    ['e', 1],
  ])
})

storeTest('identityPrint: passes rows through and prints each step as a table', async (t, open) => {
  const printed: string[] = []
  const graph = st.compile([st.input<{ name: string }>()], (a) => st.identityPrint(a, (s) => printed.push(s)))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert({ name: 'felix' }))[0], [[{ name: 'felix' }, 1]])
  t.is(printed.length, 1)
  t.regex(printed[0]!, /identityPrint/)
  t.regex(printed[0]!, /_count_.*name/s)
  t.regex(printed[0]!, /felix/)
})
