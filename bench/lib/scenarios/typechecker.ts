/**
 * The type-checker query (the reference's docs/snippets/test_typechecker.py):
 * classes → attributes → reference edges → transitive closure, joined back to
 * the classes, a ZSet-valued groupReduceFlatten per source class, an outer join
 * with the classes, resolved and cached. The recursive operator and the nested
 * ZSets make it the "complex" workload (more than 10 delay vertices).
 *
 * The cache is indexed by identifier (the reference integrates without an index;
 * the Python driver does the same as here) so a single-key read can be timed.
 */
import * as st from '../../../src/index.js'

export type Attrs = readonly (readonly [string, string])[]
export interface Class {
  readonly identifier: string
  readonly attrs: Attrs
}
interface Attr {
  readonly identifier: string
  readonly key: string
  readonly value: string
}
export interface A {
  readonly key: string
  readonly value: string | readonly A[]
}
export interface Resolved {
  readonly identifier: string
  readonly attrs: readonly A[]
}

type Edge = st.Pair<string, string>
type Grouped = st.Pair<st.ZSet<Class>, string>

export function resolve(from: Class, targets: Iterable<Class>): Resolved {
  const byId = new Map<string, Attrs>()
  for (const c of targets) byId.set(c.identifier, c.attrs)
  const f = (kvs: Attrs): A[] => kvs.map(([key, value]) => {
    const inner = byId.get(value)
    return inner ? { key, value: f(inner) } : { key, value }
  })
  return { identifier: from.identifier, attrs: f(from.attrs) }
}

export function buildTypechecker() {
  const byIdentifier = st.index<Resolved>((r) => r.identifier)
  const outputCache = st.cache<Resolved>()
  const graph = st.compile([st.input<Class>({ name: 'classes' })], (classes) => {
    const attrs = st.mapMany(classes, (c): Attr[] => c.attrs.map(([key, value]) => ({ identifier: c.identifier, key, value })))
    const edges = st.map(attrs, (a): Edge => st.pair(a.identifier, a.value))
    const allEdges = st.transitiveClosure(edges)
    const fromTo = st.join(allEdges, classes, {
      onLeft: st.index<Edge>((p) => p.right),
      onRight: st.index<Class>((c) => c.identifier),
    })
    const grouped = st.groupReduceFlatten(fromTo, {
      by: st.index<st.Pair<Edge, Class>>((p) => p.left.left),
      zero: () => st.zset<Class>([]),
      pick: (p) => st.zset<Class>([[p.right, 1]]),
    })
    const joined = st.outerJoin(classes, grouped as st.Stream<Grouped>, {
      onLeft: st.index<Class>((c) => c.identifier),
      onRight: st.index<Grouped>((p) => p.right),
    })
    const resolved = st.map(joined, (p): Resolved => {
      const right = p.right
      const targets = right === st.EMPTY ? [] : [...(right as Grouped).left.iter()].map(([c]) => c)
      return resolve(p.left, targets)
    })
    outputCache.integrateIndexed(resolved, [byIdentifier])
    return resolved
  })
  return { graph, cache: outputCache, index: byIdentifier }
}

/** `n` classes in groups of five, as the reference's test_typechecker_make_loads. */
export function* classes(n: number): Generator<Class> {
  let made = 0
  for (let i = 0; made < n; i++) {
    const group: Class[] = [
      { identifier: `one.A.${i}`, attrs: [['x', 'str']] },
      { identifier: `one.B.${i}`, attrs: [['y', `one.A.${i}`]] },
      { identifier: `one.C.${i}`, attrs: [['z', `one.B.${i}`]] },
      { identifier: `two.D.${i}`, attrs: [['y', `one.A.${i}`], ['z', 'int']] },
      { identifier: `two.E.${i}`, attrs: [['x', 'float']] },
    ]
    for (const c of group) {
      if (made++ >= n) return
      yield c
    }
  }
}
