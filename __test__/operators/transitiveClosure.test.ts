/** transitiveClosure and user-written recursion: reference tests/run/test_recursive.py. */
import * as st from '../../src/index.js'
import { storeTest } from '../helpers/stores.js'
import { assertRows, toBag } from '../helpers/zsets.js'

type Edge = st.Pair<number, number>
// left = parent id, right = id
const values: [number, number][] = [
  [0, 1],
  [1, 2],
  [2, 3],
  [0, 4],
  [1, 5],
]
const edges = (vs: [number, number][], w = 1) => st.zset(vs.map(([l, r]) => [st.pair(l, r), w] as const))
const pairs = (vs: [number, number][]) => vs.map(([l, r]) => [st.pair(l, r), 1] as const)

const closureGraph = () => st.compile([st.input<Edge>()], (a) => st.integrate(st.transitiveClosure(a)))

storeTest('transitiveClosure: built in two passes, then an edge removed (reference test_recurse)', async (t, open) => {
  const graph = closureGraph()
  const store = await open(graph)
  await st.iteration(store, graph, [edges(values.slice(0, 3))])
  await st.iteration(store, graph, [edges(values.slice(3))])
  // and again! (the same edges a second time: the closure does not change)
  const [again] = await st.iteration(store, graph, [edges(values.slice(3))])
  const all: [number, number][] = [
    [0, 1],
    [0, 2],
    [0, 3],
    [0, 4],
    [0, 5],
    [1, 2],
    [1, 3],
    [1, 5],
    [2, 3],
  ]
  await assertRows(t, again, pairs(all))

  const [removed] = await st.iteration(store, graph, [edges([[1, 2]], -1)])
  await assertRows(
    t,
    removed,
    pairs([
      [0, 1],
      [0, 4],
      [0, 5],
      [1, 5],
      [2, 3],
    ]),
  )
})

storeTest('transitiveClosure: in a single pass (reference test_single_pass)', async (t, open) => {
  const graph = closureGraph()
  const store = await open(graph)
  const [out] = await st.iteration(store, graph, [edges(values.slice(0, 3))])
  await assertRows(
    t,
    out,
    pairs([
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 2],
      [1, 3],
      [2, 3],
    ]),
  )
})

storeTest('transitiveClosure: emits only the change, and re-adding a removed edge restores paths', async (t, open) => {
  const graph = st.compile([st.input<Edge>()], (a) => st.transitiveClosure(a))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert(st.pair(1, 2), st.pair(2, 3)))[0], pairs([[1, 2], [2, 3], [1, 3]]))
  await assertRows(t, (await a.insert(st.pair(0, 1)))[0], pairs([[0, 1], [0, 2], [0, 3]]))
  // a second path from 0 to 3 adds nothing
  await assertRows(t, (await a.insert(st.pair(0, 3)))[0], [])
  await assertRows(t, (await a.remove(st.pair(1, 2)))[0], [
    [st.pair(1, 2), -1],
    [st.pair(1, 3), -1],
    [st.pair(0, 2), -1],
  ])
  await assertRows(t, (await a.insert(st.pair(1, 2)))[0], pairs([[1, 2], [1, 3], [0, 2]]))
})

storeTest('transitiveClosure: string nodes', async (t, open) => {
  const graph = st.compile([st.input<st.Pair<string, string>>()], (a) => st.transitiveClosure(a))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert(st.pair('a', 'b'), st.pair('b', 'c')))[0], [
    [st.pair('a', 'b'), 1],
    [st.pair('b', 'c'), 1],
    [st.pair('a', 'c'), 1],
  ])
})

storeTest('feedback: user-written recursion through a delay (reference test_python_implementation)', async (t, open) => {
  const onRight = st.index<Edge>((e) => e.right)
  const onLeft = st.index<Edge>((e) => e.left)
  const graph = st.compile([st.input<Edge>()], (z) => {
    const added = st.feedback<Edge>()
    const joined = st.join(z, st.delay(added), { onLeft: onRight, onRight: onLeft })
    const mapped = st.map(joined, (p) => st.pair(p.left.left, p.right.right))
    const result = st.add(mapped, z)
    added.close(result)
    return result
  })
  const store = await open(graph)
  const input = edges(values)
  await st.iteration(store, graph, [input])
  await st.iteration(store, graph, [input])
  const [out] = await st.iteration(store, graph, [input])
  const rows = [...(await toBag(out)).values()].map((e) => e.value as Edge).map((p) => [p.left, p.right])
  rows.sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!)
  t.deepEqual(rows, [
    [0, 1],
    [0, 2],
    [0, 3],
    [0, 4],
    [0, 5],
    [1, 2],
    [1, 3],
    [1, 5],
    [2, 3],
  ])
})
