/**
 * group → perGroup → flatten: reference test_group_reduce_flatten,
 * test_nested_group, test_group_by, test_group_by_2 and test_group_by_zset_2
 * (tests/run/test_further.py).
 */
import * as st from '../../src/index.js'
import { storeTest } from '../helpers/stores.js'
import { assertRows } from '../helpers/zsets.js'

const byLength = st.index<string>((s) => s.length, { name: 'len' })

storeTest('group → perGroup(map) → flatten (reference test_group_reduce_flatten)', async (t, open) => {
  const graph = st.compile([st.input<string>()], (a) => {
    const grouped = st.group(a, { by: byLength })
    const upper = st.perGroup(grouped, (g) => st.map(g, (s) => s.toUpperCase()))
    return st.flatten(upper)
  })
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert('cat'))[0], [[st.pair('CAT', 3), 1]])
  await assertRows(t, (await a.insert('ca'))[0], [[st.pair('CA', 2), 1]])
  await assertRows(t, (await a.insert('dog'))[0], [[st.pair('DOG', 3), 1]])
  await assertRows(t, (await a.insert('cat'))[0], [[st.pair('CAT', 3), 1]])
  await assertRows(t, (await a.remove('cat'))[0], [[st.pair('CAT', 3), -1]])
})

type WithLenAndFirst = { value: string; length: number; first: string }

storeTest('group by a field of mapped rows, integrated (reference test_nested_group)', async (t, open) => {
  const graph = st.compile([st.input<string>()], (a) => {
    const keyed = st.map(a, (s): WithLenAndFirst => ({ value: s, length: s.length, first: s[0]! }))
    const grouped = st.group(keyed, { by: st.index<WithLenAndFirst>((w) => w.length) })
    const upper = st.perGroup(grouped, (g) => st.map(g, (w) => w.value.toUpperCase()))
    return st.integrate(st.flatten(upper))
  })
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert('cat'))[0], [[st.pair('CAT', 3), 1]])
  await assertRows(t, (await a.insert('dog'))[0], [
    [st.pair('CAT', 3), 1],
    [st.pair('DOG', 3), 1],
  ])
})

type WithLenAndZSet = { value: string; length: number; zset: st.ZSet<string> }
const z = (...vs: string[]) => st.zset(vs.map((v) => [v, 1] as const))

for (const name of ['test_group_by', 'test_group_by_zset_2']) {
  storeTest(`group by length, reducing to a ZSet per group, integrated (reference ${name})`, async (t, open) => {
    const graph = st.compile([st.input<string>()], (a) => {
      const keyed = st.map(a, (s): WithLenAndZSet => ({ value: s, length: s.length, zset: z(s) }))
      const grouped = st.group(keyed, { by: st.index<WithLenAndZSet>((w) => w.length) })
      const reduced = st.perGroup(grouped, (g) => st.reduce(g, { zero: () => st.zset<string>(), pick: (w) => w.zset }))
      return st.integrate(st.flatten(reduced))
    })
    const store = await open(graph)
    const [a] = st.actions(store, graph)
    await assertRows(t, (await a.insert('cat'))[0], [[st.pair(z('cat'), 3), 1]])
    await assertRows(t, (await a.insert('ca'))[0], [
      [st.pair(z('cat'), 3), 1],
      [st.pair(z('ca'), 2), 1],
    ])
    await assertRows(t, (await a.insert('dog'))[0], [
      [st.pair(z('cat', 'dog'), 3), 1],
      [st.pair(z('ca'), 2), 1],
    ])
    await assertRows(t, (await a.insert('cat'))[0], [
      [st.pair(z('cat', 'dog', 'cat'), 3), 1],
      [st.pair(z('ca'), 2), 1],
    ])
    await assertRows(t, (await a.remove('cat'))[0], [
      [st.pair(z('cat', 'dog'), 3), 1],
      [st.pair(z('ca'), 2), 1],
    ])
    // Beyond the reference: emptying group 2 retracts its row (stepping would
    // keep { left: <empty ZSet>, right: 2 }; API.md "Where we differ").
    await assertRows(t, (await a.remove('ca'))[0], [[st.pair(z('cat', 'dog'), 3), 1]])
  })
}

type WithLenAndWeight = { value: string; length: number; weight: number }

storeTest('group by length, summing a weight field, integrated (reference test_group_by_2)', async (t, open) => {
  const graph = st.compile([st.input<string>()], (a) => {
    const mapped = st.map(a, (s): WithLenAndWeight => ({ value: s, length: s.length, weight: 1 }))
    const grouped = st.group(mapped, { by: st.index<WithLenAndWeight>((w) => w.length) })
    const reduced = st.perGroup(grouped, (g) => st.reduce(g, { zero: () => 0, pick: (w) => w.weight }))
    return st.integrate(st.flatten(reduced))
  })
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert('cat'))[0], [[st.pair(1, 3), 1]])
  await assertRows(t, (await a.insert('ca'))[0], [
    [st.pair(1, 3), 1],
    [st.pair(1, 2), 1],
  ])
  await assertRows(t, (await a.insert('dog'))[0], [
    [st.pair(2, 3), 1],
    [st.pair(1, 2), 1],
  ])
  await assertRows(t, (await a.insert('cat'))[0], [
    [st.pair(3, 3), 1],
    [st.pair(1, 2), 1],
  ])
  await assertRows(t, (await a.remove('cat'))[0], [
    [st.pair(2, 3), 1],
    [st.pair(1, 2), 1],
  ])
  // stepping would now hold { left: 0, right: 2 }; we retract the group's row.
  await assertRows(t, (await a.remove('ca'))[0], [[st.pair(2, 3), 1]])
})

storeTest('perGroup keeps per-group state: a delay inside sees only its own group', async (t, open) => {
  type Ev = { user: string; n: number }
  const graph = st.compile([st.input<Ev>()], (a) => {
    const grouped = st.group(a, { by: st.index<Ev>((e) => e.user) })
    // integrate inside the group: each group's running contents
    const perUser = st.perGroup(grouped, (g) => st.integrate(st.map(g, (e) => e.n)))
    return st.flatten(perUser)
  })
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert({ user: 'u1', n: 1 }))[0], [[st.pair(1, 'u1'), 1]])
  await assertRows(t, (await a.insert({ user: 'u2', n: 2 }))[0], [[st.pair(2, 'u2'), 1]])
  // only u1 changed, so only u1's group runs; its integral holds 1 and 3
  await assertRows(t, (await a.insert({ user: 'u1', n: 3 }))[0], [
    [st.pair(1, 'u1'), 1],
    [st.pair(3, 'u1'), 1],
  ])
})

storeTest('group keys can be composite (tuples) and dates', async (t, open) => {
  type Read = { user: number; day: string; at: Date; v: number }
  const graph = st.compile([st.input<Read>()], (a) =>
    st.groupReduceFlatten(a, { by: st.index<Read>((r) => [r.user, r.day]), zero: () => 0, pick: (r) => r.v }),
  )
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert({ user: 1, day: '2023-01-01', at: new Date(0), v: 2 }, { user: 1, day: '2023-01-01', at: new Date(1), v: 3 }))[0], [
    [st.pair(5, [1, '2023-01-01']), 1],
  ])
  const byDate = st.index<Read>((r) => r.at)
  const g2 = st.compile([st.input<Read>()], (a) => st.groupReduceFlatten(a, { by: byDate, zero: () => 0, pick: (r) => r.v }))
  const s2 = await open(g2)
  await assertRows(t, (await st.actions(s2, g2)[0].insert({ user: 1, day: 'x', at: new Date(5), v: 7 }))[0], [[st.pair(7, new Date(5)), 1]])
})
