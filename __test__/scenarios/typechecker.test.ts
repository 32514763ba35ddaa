/**
 * The type-checker query (reference docs/snippets/test_typechecker.py): the
 * transitive closure of class references, a join, a ZSet-valued
 * groupReduceFlatten and an outer join resolve each class's attributes.
 */
import * as st from '../../src/index.js'
import { storeTest } from '../helpers/stores.js'
import { assertRows } from '../helpers/zsets.js'

type Class = { identifier: string; attrs: [string, string][] } // attrs: [key, type]
type Attr = { identifier: string; key: string; value: string }
type A = { key: string; value: string | A[] }
type Resolved = { identifier: string; attrs: A[] }

function resolve(p: st.Pair<Class, st.Pair<st.ZSet<Class>, string> | st.Empty>): Resolved {
  const identifierToAttrs = new Map<string, [string, string][]>()
  if (p.right !== st.EMPTY) {
    for (const [toClass] of (p.right as st.Pair<st.ZSet<Class>, string>).left.iter() as Iterable<[Class, number]>) {
      identifierToAttrs.set(toClass.identifier, toClass.attrs)
    }
  }
  const f = (keyValues: [string, string][]): A[] =>
    keyValues.map(([key, value]) => {
      const attrs = identifierToAttrs.get(value)
      return attrs ? { key, value: f(attrs) } : { key, value }
    })
  return { identifier: p.left.identifier, attrs: f(p.left.attrs) }
}

function typecheckerQuery() {
  const outputCache = st.cache<Resolved>()
  const graph = st.compile([st.input<Class>()], (classes) => {
    const attrs = st.mapMany(classes, (c) => c.attrs.map(([key, value]): Attr => ({ identifier: c.identifier, key, value })))
    const edges = st.map(attrs, (a) => st.pair(a.identifier, a.value))
    const allEdges = st.transitiveClosure(edges)
    const fromTo = st.join(allEdges, classes, {
      onLeft: st.index<st.Pair<string, string>>((p) => p.right),
      onRight: st.index<Class>((c) => c.identifier),
    })
    const groupedByFromIdentifier = st.groupReduceFlatten(fromTo, {
      by: st.index<st.Pair<st.Pair<string, string>, Class>>((p) => p.left.left),
      zero: () => st.zset<Class>(),
      pick: (p) => st.zset([[p.right, 1]]),
    })
    const fromJoinedToRelevant = st.outerJoin(classes, groupedByFromIdentifier, {
      onLeft: st.index<Class>((c) => c.identifier),
      onRight: st.index<st.Pair<st.ZSet<Class>, string>>((p) => p.right),
    })
    const resolved = st.map(fromJoinedToRelevant, resolve)
    outputCache.integrate(resolved)
    return resolved
  })
  return { graph, outputCache }
}

const inputData: Class[] = [
  { identifier: 'one.A', attrs: [['x', 'str']] },
  { identifier: 'one.B', attrs: [['y', 'one.A']] },
  { identifier: 'one.C', attrs: [['z', 'one.B']] },
  { identifier: 'two.D', attrs: [['y', 'one.A'], ['z', 'int']] },
  { identifier: 'two.E', attrs: [['x', 'float']] },
]

const xStr: A[] = [{ key: 'x', value: 'str' }]
const expectedOutput: Resolved[] = [
  { identifier: 'one.A', attrs: xStr },
  { identifier: 'one.B', attrs: [{ key: 'y', value: xStr }] },
  { identifier: 'one.C', attrs: [{ key: 'z', value: [{ key: 'y', value: xStr }] }] },
  { identifier: 'two.D', attrs: [{ key: 'y', value: xStr }, { key: 'z', value: 'int' }] },
  { identifier: 'two.E', attrs: [{ key: 'x', value: 'float' }] },
]

storeTest('type checker: resolve class references, then remove two.E and one.B (reference test_typechecker)', async (t, open) => {
  const { graph, outputCache } = typecheckerQuery()
  const store = await open(graph)
  const [action] = st.actions(store, graph)

  const [actual] = await action.insert(...inputData)
  await assertRows(t, actual, expectedOutput.map((v) => [v, 1] as const))
  await assertRows(t, outputCache.zset(store), expectedOutput.map((v) => [v, 1] as const))
  // String(zset) is a table like the reference's: a _count_ column, then one per field.
  const lines = String(actual).split('\n')
  t.is(lines[0], '<ZSet>')
  t.regex(lines[2]!, /^│ _count_ │ identifier +│ attrs +│$/)
  const body = lines.filter((l) => /^│ +1 │/.test(l))
  t.deepEqual(body.map((l) => l.split('│')[2]!.trim()).sort(), ['one.A', 'one.B', 'one.C', 'two.D', 'two.E'])
  t.true(body.some((l) => l.includes('[{"key":"y","value":[{"key":"x","value":"str"}]},{"key":"z","value":"int"}]')))

  const [removedE] = await action.remove({ identifier: 'two.E', attrs: [['x', 'float']] })
  await assertRows(t, removedE, [[{ identifier: 'two.E', attrs: [{ key: 'x', value: 'float' }] }, -1]])

  // one.C's group empties here: stepping keeps { left: <empty ZSet>, right: 'one.C' }
  // and we retract it (API.md), but either way the outer join resolves one.C
  // with nothing known about one.B, so the expected change is the reference's.
  const [removedB] = await action.remove({ identifier: 'one.B', attrs: [['y', 'one.A']] })
  await assertRows(t, removedB, [
    [{ identifier: 'one.B', attrs: [{ key: 'y', value: xStr }] }, -1],
    [{ identifier: 'one.C', attrs: [{ key: 'z', value: [{ key: 'y', value: xStr }] }] }, -1],
    [{ identifier: 'one.C', attrs: [{ key: 'z', value: 'one.B' }] }, 1],
  ])
  await assertRows(t, outputCache.zset(store), [
    [{ identifier: 'one.A', attrs: xStr }, 1],
    [{ identifier: 'one.C', attrs: [{ key: 'z', value: 'one.B' }] }, 1],
    [{ identifier: 'two.D', attrs: [{ key: 'y', value: xStr }, { key: 'z', value: 'int' }] }, 1],
  ])

  // putting one.B back resolves one.C fully again
  const [back] = await action.insert({ identifier: 'one.B', attrs: [['y', 'one.A']] })
  await assertRows(t, back, [
    [{ identifier: 'one.B', attrs: [{ key: 'y', value: xStr }] }, 1],
    [{ identifier: 'one.C', attrs: [{ key: 'z', value: [{ key: 'y', value: xStr }] }] }, 1],
    [{ identifier: 'one.C', attrs: [{ key: 'z', value: 'one.B' }] }, -1],
  ])
})

storeTest('type checker: classes inserted one at a time reach the same output', async (t, open) => {
  const { graph, outputCache } = typecheckerQuery()
  const store = await open(graph)
  const [action] = st.actions(store, graph)
  for (const c of [...inputData].reverse()) await action.insert(c)
  await assertRows(t, outputCache.zset(store), expectedOutput.map((v) => [v, 1] as const))
})
