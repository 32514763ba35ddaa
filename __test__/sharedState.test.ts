/**
 * Integrals read from state kept anyway (src/graph/sharedState.ts): a join's
 * integral of a distinct reads distinct's own integral as its support, an
 * outer join's integral of a group-reduce reads the per-group totals. Which
 * delays share, the edge cases of the mappings, and caches (read as stored,
 * so never shared through a mapping), on every store.
 */
import test from 'ava'
import * as st from '../src/index.js'
import { storeTest } from './helpers/stores.js'
import { assertRows } from './helpers/zsets.js'
import { groupTotalsOf, type StateReader, supportOf } from '../src/runtime/view.js'
import { GROUP_KEY_INDEX } from '../src/stores/store.js'
import { EntryRows, listsOf } from '../src/zset/rowsByKey.js'
import { rowKey } from '../src/values/encode.js'
import { ZSet } from '../src/zset/zset.js'

type Edge = st.Pair<string, string>
type Class = { identifier: string; refs: string[] }

/** The type checker's shape: closure, join, group-reduce per source, outer join with the classes. */
function resolverGraph() {
  return st.compile([st.input<Class>()], (classes) => {
    const edges = st.mapMany(classes, (c) => c.refs.map((r): Edge => st.pair(c.identifier, r)))
    const reachable = st.join(st.transitiveClosure(edges), classes, {
      onLeft: st.index<Edge>((p) => p.right),
      onRight: st.index<Class>((c) => c.identifier),
    })
    const perSource = st.groupReduceFlatten(reachable, {
      by: st.index<st.Pair<Edge, Class>>((p) => p.left.left),
      zero: () => 0,
      pick: () => 1,
    })
    return st.outerJoin(classes, perSource, {
      onLeft: st.index<Class>((c) => c.identifier),
      onRight: st.index<st.Pair<number, string>>((p) => p.right),
    })
  })
}

const sharesOf = (def: st.Graph<any, any>['def']) =>
  def.delays.filter((d) => d.params.stateOf).map((d) => [d.path, d.params.stateOf!.path, d.params.stateMap])
const indexesOf = (def: st.Graph<any, any>['def'], path: string) => def.delays.find((d) => d.path === path)!.params.indexes!.map((i) => i.id)

test('the closure and the outer join read their integrals from distinct and from the group totals', (t) => {
  const { def } = resolverGraph()
  t.deepEqual(sharesOf(def), [
    ['transitive_closure/integrate_indexed/delay', 'transitive_closure/distinct/integrate_delay/delay', 'support'],
    ['join/integrate_indexed/delay', 'transitive_closure/distinct/integrate_delay/delay', 'support'],
    ['outer_join/join/integrate_delay_indexed/delay', 'group_reduce/per_group/reduce/integrate/delay', 'groupTotals'],
  ])
  // distinct's integral is now read by the paths' end too: it keeps that index.
  t.deepEqual(indexesOf(def, 'transitive_closure/distinct/integrate_delay/delay'), ['right:a'])
  // One right row per group key: the unmatched lefts need no distinct keys and no second join.
  t.deepEqual(
    def.delays.filter((d) => d.path.startsWith('outer_join/')).map((d) => d.path),
    ['outer_join/join/integrate_indexed/delay', 'outer_join/join/integrate_delay_indexed/delay'],
  )
})

test('an outer join whose right keys may repeat reads the integral of its distinct keys from distinct', (t) => {
  const { def } = st.compile([st.input<Class>(), st.input<Edge>()], (classes, edges) =>
    st.outerJoin(classes, edges, { onLeft: st.index<Class>((c) => c.identifier), onRight: st.index<Edge>((e) => e.right) }),
  )
  t.deepEqual(sharesOf(def), [['outer_join/join#2/integrate_delay_indexed/delay', 'outer_join/distinct/integrate_delay/delay', 'support']])
  t.deepEqual(indexesOf(def, 'outer_join/distinct/integrate_delay/delay'), ['key:a'])
})

storeTest('shared integrals: paths found two ways and classes resolved, inserted and removed', async (t, open) => {
  const graph = resolverGraph()
  const store = await open(graph)
  const [classes] = st.actions(store, graph)
  const a = { identifier: 'a', refs: ['b', 'c'] }
  const b = { identifier: 'b', refs: ['d'] }
  const c = { identifier: 'c', refs: ['d'] }
  const d = { identifier: 'd', refs: [] }
  // A class with its group's count of reachable classes (none: EMPTY), at a weight.
  const row = (cls: Class, count: number | undefined, weight: number) =>
    [st.pair(cls, count === undefined ? st.EMPTY : st.pair(count, cls.identifier)), weight] as const
  // a reaches d through b and through c: once in the closure, so a's group counts b, c and d once each.
  await assertRows(t, (await classes.insert(a, b, c, d))[0], [row(a, 3, 1), row(b, 1, 1), row(c, 1, 1), row(d, undefined, 1)])
  // A second copy of d: the join reads each path once (support), the outer join each group's total once.
  await assertRows(t, (await classes.insert(d))[0], [
    ...[a, b, c].flatMap((x, i) => [row(x, i === 0 ? 3 : 1, -1), row(x, i === 0 ? 4 : 2, 1)]),
    row(d, undefined, 1),
  ])
  // b gone: a still reaches d through c; b's group empties, and b's edge is gone from the closure.
  await assertRows(t, (await classes.remove(b))[0], [row(a, 4, -1), row(a, 3, 1), row(b, 2, -1)])
})

storeTest('shared totals: a group whose rows cancel (count 0) but whose sum does not is no match for the outer join', async (t, open) => {
  type Item = { g: string; v: number }
  type Key = { id: string }
  const graph = st.compile([st.input<Key>(), st.input<Item>()], (keys, items) => {
    const sums = st.groupReduceFlatten(items, { by: st.index<Item>((i) => i.g), zero: () => 0, pick: (i) => i.v })
    return st.outerJoin(keys, sums, { onLeft: st.index<Key>((k) => k.id), onRight: st.index<st.Pair<number, string>>((p) => p.right) })
  })
  t.is(graph.def.delays.find((d) => d.path === 'outer_join/join/integrate_delay_indexed/delay')!.params.stateMap, 'groupTotals')
  const store = await open(graph)
  const key = { id: 'a' }
  const step = async (k: [Key, number][], i: [Item, number][]) => (await st.iteration(store, graph, [st.zset(k), st.zset(i)]))[0]
  // +5 and −3 in group a: no rows (count 0), total 2. SQL GROUP BY has no such group.
  await assertRows(t, await step([[key, 1]], [[{ g: 'a', v: 5 }, 1], [{ g: 'a', v: 3 }, -1]]), [[st.pair(key, st.EMPTY), 1]])
  // A later key reads the stored totals: still no match.
  await assertRows(t, await step([[key, 1]], []), [[st.pair(key, st.EMPTY), 1]])
  // The −3 restored: one row, total 5; then another key matches it through the stored totals.
  await assertRows(t, await step([], [[{ g: 'a', v: 3 }, 1]]), [
    [st.pair(key, st.EMPTY), -2],
    [st.pair(key, st.pair(5, 'a')), 2],
  ])
  await assertRows(t, await step([[key, 1]], []), [[st.pair(key, st.pair(5, 'a')), 1]])
})

storeTest('caches of a distinct, a closure and a group-reduce keep their own rows (read as stored)', async (t, open) => {
  type Item = { g: string; v: number }
  const seen = st.cache<number>()
  const paths = st.cache<Edge>()
  const totals = st.cache<st.Pair<number, string>>()
  const graph = st.compile([st.input<number>(), st.input<Edge>(), st.input<Item>()], (xs, edges, items) => {
    seen.integrate(st.distinct(xs))
    paths.integrate(st.transitiveClosure(edges))
    totals.integrate(st.groupReduceFlatten(items, { by: st.index<Item>((i) => i.g), zero: () => 0, pick: (i) => i.v }))
    return xs
  })
  t.deepEqual(graph.def.delays.filter((d) => d.params.cache && d.params.stateMap), [])
  const store = await open(graph)
  const diamond = [st.pair('a', 'b'), st.pair('a', 'c'), st.pair('b', 'd'), st.pair('c', 'd')]
  await st.iteration(store, graph, [st.zset([[1, 2]]), st.zset(diamond.map((e) => [e, 1])), st.zset([[{ g: 'a', v: 1 }, 1], [{ g: 'a', v: 2 }, 1]])])
  await st.iteration(store, graph, [st.zset([[1, 1]]), st.zset(), st.zset()])
  await assertRows(t, seen.zset(store), [[1, 1]])
  await assertRows(t, paths.zset(store), [...diamond, st.pair('a', 'd')].map((e) => [e, 1] as const))
  await assertRows(t, totals.zset(store), [[st.pair(3, 'a'), 1]])
})

test('group totals read as (sum, key) pairs carry the row key the pair encodes to, whatever the sum and key', async (t) => {
  const totals = [
    { left: { count: 2, sum: 7 }, right: 'a' },
    { left: { count: 1, sum: st.zset([[{ x: 1 }, 2]]) }, right: 'b' },
    { left: { count: 3, sum: st.pair('s', [1, 2]) }, right: { id: 4 } },
    { left: { count: 0, sum: 5 }, right: 'gone' },
  ]
  const z = new ZSet<unknown>()
  for (const row of totals) z.addWeight(rowKey(row), row, 1)
  // Each total is stored under its group key (the right side); a lookup by group key lists them key by key.
  const groupKey = (row: (typeof totals)[number]) => GROUP_KEY_INDEX.encodeKey(row.right)
  const reader: StateReader<unknown> = {
    lookupEach: async (_index, keys) => new EntryRows(keys.map((k) => [...z.entries.values()].filter((e) => groupKey(e.value as (typeof totals)[number]) === k))),
    lookupRows: async () => new ZSet(),
    scan: async function* () {},
    readAll: async () => z,
  }
  const expected = (rows: typeof totals) => rows.filter((r) => r.left.count !== 0).map((r) => [rowKey(st.pair(r.left.sum, r.right)), 1]).sort()
  const pairs = await groupTotalsOf(reader).readAll()
  t.deepEqual([...pairs.entries.values()].map((e) => [e.key, e.weight]).sort(), expected(totals))
  // By group key, key by key: a group whose count is 0 has no pair; a key with no group has none either.
  const keys = [totals[3]!, totals[0]!, totals[2]!].map(groupKey).concat(GROUP_KEY_INDEX.encodeKey('nobody'))
  const found = listsOf(await groupTotalsOf(reader).lookupEach(GROUP_KEY_INDEX, keys))
  t.deepEqual(
    found.map((list) => list.map((e) => [e.key, e.weight])),
    [[], expected([totals[0]!]), expected([totals[2]!]), []],
  )
})

test('a support read key by key keeps the rows of positive weight, each once, and their texts', async (t) => {
  const rows = [
    { g: 1, v: 'a' },
    { g: 1, v: 'b' },
    { g: 2, v: 'c' },
    { g: 2, v: 'd' },
  ]
  const weights = [3, -1, 1, 0]
  const byG = st.index<{ g: number; v: string }>((r) => r.g, { name: 'g' })
  const state: StateReader<{ g: number; v: string }> = {
    lookupEach: async (_index, keys) =>
      new EntryRows(keys.map((k) => rows.flatMap((r, i) => (byG.encodeKey(r.g) === k ? [{ key: rowKey(r), value: r, weight: weights[i]! }] : [])))),
    lookupRows: async () => new ZSet(),
    scan: async function* () {},
    readAll: async () => new ZSet(),
  }
  const found = listsOf(await supportOf(state).lookupEach(byG as st.Index<{ g: number; v: string }, unknown>, [byG.encodeKey(2), byG.encodeKey(1)]))
  t.deepEqual(found, [[{ key: rowKey(rows[2]), value: rows[2], weight: 1 }], [{ key: rowKey(rows[0]), value: rows[0], weight: 1 }]])
})
