/**
 * Bags (src/zset/bag.ts, src/graph/consolidation.ts): vertices whose every
 * consumer is linear pass on unconsolidated rows. Which vertices do is checked
 * against the query's shape worked out by hand; what the queries return is
 * checked against hand-computed ZSets, on every store.
 */
import test from 'ava'
import * as st from '../src/index.js'
import { meterReadsGraph } from '../src/examples/meterReads.js'
import { storeTest } from './helpers/stores.js'
import { assertRows } from './helpers/zsets.js'

const bagVertices = (g: st.Graph<any, any>) =>
  g.def.allVertices
    .filter((v) => v.bagOutput)
    .map((v) => `${v.kind} ${v.path}`)
    .sort()

test('meter reads: join results, their sum and the read-with-date map skip identities; state, outputs and the cache do not', (t) => {
  const { graph } = meterReadsGraph()
  // users ⋈ meters feeds a map (linear); that map feeds the second join's state, so it keeps identities.
  // meters-users ⋈ reads feeds the map withDate, which feeds only the group of groupReduceFlatten.
  // The final map feeds the cache's integral and is an output: identities needed.
  // Inside the per-group reduce, the new and the old total's one-row sets feed only the − and + of D;
  // the flattened (total, day) pairs feed only the map to DailyUsage.
  t.deepEqual(bagVertices(graph), [
    'add join#2/add',
    'add join/add',
    'aggregateToSet group_reduce/per_group/reduce/aggregateToSet',
    'aggregateToSet group_reduce/per_group/reduce/aggregateToSet#2',
    'flatten group_reduce/flatten',
    'join join#2/join',
    'join join#2/join#2',
    'join join/join',
    'join join/join#2',
    'map map#2',
    'neg group_reduce/per_group/reduce/neg',
  ])
  const outputs = new Set(graph.def.outputs)
  for (const v of graph.def.allVertices) {
    if (v.kind === 'delay') for (const i of v.inputs) t.false(i.bagOutput ?? false, `${i.path} feeds state`)
    if (outputs.has(v)) t.false(v.bagOutput ?? false, `${v.path} is an output`)
  }
})

storeTest('bags: rows that cancel or repeat before a reduce sum as their ZSet would', async (t, open) => {
  // n ↦ n mod 3 maps different rows onto one, and +1/−1 rows of the same result cancel in the bag.
  const graph = st.compile([st.input<number>()], (ns) =>
    st.groupReduceFlatten(
      st.map(ns, (n) => ({ r: n % 3 })),
      { by: st.index<{ r: number }>((x) => x.r), zero: () => 0, pick: () => 1 },
    ),
  )
  t.true(graph.def.allVertices.some((v) => v.kind === 'map' && v.bagOutput))
  const store = await open(graph)
  const [ns] = st.actions(store, graph)
  await assertRows(t, (await ns.insert(1, 4, 7, 2))[0], [
    [st.pair(3, 1), 1],
    [st.pair(1, 2), 1],
  ])
  // 10 ↦ 1 in, 4 ↦ 1 out: the group's count is unchanged, so nothing is emitted for it.
  await assertRows(t, (await ns.apply([[10, 1], [4, -1], [5, 1]]))[0], [
    [st.pair(1, 2), -1],
    [st.pair(2, 2), 1],
  ])
})

storeTest('bags: a bag reaching an operator that needs identities is consolidated first', async (t, open) => {
  // group → flatten (no perGroup) and distinct inside perGroup both see consolidated rows.
  const byParity = st.index<number>((n) => n % 2, { name: 'parity' })
  const graph = st.compile([st.input<number>()], (ns) => {
    const halves = st.map(ns, (n) => Math.floor(n / 2))
    const grouped = st.group(halves, { by: byParity })
    return [st.flatten(grouped), st.flatten(st.perGroup(grouped, (g) => st.distinct(g)))] as const
  })
  const store = await open(graph)
  const [ns] = st.actions(store, graph)
  // 4, 5 ↦ 2 (twice); 6 ↦ 3.
  const [flat, distinct] = await ns.insert(4, 5, 6)
  await assertRows(t, flat!, [
    [st.pair(2, 0), 2],
    [st.pair(3, 1), 1],
  ])
  await assertRows(t, distinct!, [
    [st.pair(2, 0), 1],
    [st.pair(3, 1), 1],
  ])
  const [flat2, distinct2] = await ns.remove(4)
  await assertRows(t, flat2!, [[st.pair(2, 0), -1]])
  await assertRows(t, distinct2!, [])
})

storeTest('bags: a bad row from a map that builds a bag fails where the bag is consolidated (an integral), and leaves nothing behind', async (t, open) => {
  const graph = st.compile([st.input<number>()], (ns) => st.integrate(st.map(ns, (n) => (n === 0 ? Number.NaN : n))))
  t.true(graph.def.allVertices.some((v) => v.kind === 'map' && v.bagOutput))
  const store = await open(graph)
  const [ns] = st.actions(store, graph)
  await ns.insert(1)
  await t.throwsAsync(ns.insert(2, 0), { instanceOf: st.InvalidValueError, message: /the function of map returned a bad row.*NaN/ })
  await assertRows(t, (await ns.insert(3))[0], [
    [1, 1],
    [3, 1],
  ])
})
