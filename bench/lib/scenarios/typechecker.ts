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
import { isDeepStrictEqual } from 'node:util'
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

/**
 * Undefined when `answer` (the cache's rows with their weights, after the first `n` classes)
 * is what a from-scratch pass gives: every class once, at weight 1, each attribute whose value
 * names a class replaced by that class's attributes, all the way down (the classes are acyclic).
 * Else the first difference. The whole answer is read, so it runs after the measurements.
 */
export function differenceFromResolvedRecount(answer: Iterable<readonly [unknown, number]>, n: number): string | undefined {
  const attrsOf = new Map<string, Attrs>()
  for (const c of classes(n)) attrsOf.set(c.identifier, c.attrs)
  const expand = (attrs: Attrs): A[] =>
    attrs.map(([key, value]) => {
      const target = attrsOf.get(value)
      return { key, value: target === undefined ? value : expand(target) }
    })
  const seen = new Set<string>()
  const text = (v: unknown) => {
    const s = JSON.stringify(v)
    return s.length > 200 ? s.slice(0, 197) + '...' : s
  }
  for (const [row, weight] of answer) {
    const got = row as Resolved
    if (weight !== 1) return `${got.identifier} has weight ${weight}`
    if (seen.has(got.identifier)) return `${got.identifier} appears twice`
    seen.add(got.identifier)
    const attrs = attrsOf.get(got.identifier)
    if (attrs === undefined) return `${got.identifier} is not one of the classes`
    const want: Resolved = { identifier: got.identifier, attrs: expand(attrs) }
    if (!isDeepStrictEqual({ ...got }, want)) return `${got.identifier} resolves to ${text(got)}, the recount to ${text(want)}`
  }
  if (seen.size !== attrsOf.size) return `${seen.size} classes resolved, the recount has ${attrsOf.size}`
  return undefined
}
