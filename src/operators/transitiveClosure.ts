/**
 * transitiveClosure: all (from, to) pairs connected by a path of edges, as a
 * fixed point (paper §7, §9.1): y = distinct(edges + z⁻¹(y) ⋈ edges), paths
 * grown by one edge at their end. Each iteration runs the inner circuit with
 * the change, then with empty inputs until its output is empty, and emits the
 * sum of the inner outputs.
 *
 * The join reads the paths found so far by where they end. Those are the
 * support of distinct's integral (Prop. 6.3: I(distinct^Δ(x)) = distinct(I(x))),
 * so they are read from it, indexed by the end, rather than kept again; once a
 * step's fixed point is reached they are the whole closure, so an outer
 * integral of the closure indexed the same way reads them too
 * (graph/sharedState.ts).
 *
 * Like stepping's, the inner state is kept across iterations, so removals are
 * exact for acyclic edge sets; on cyclic ones a removed path can keep
 * supporting itself (see README, "Recursion").
 */
import { Stream, currentContext, feedback, streamOf, use } from '../graph/builder.js'
import { Scope } from '../graph/graph.js'
import { GraphError } from '../values/errors.js'
import { pair, type Pair } from '../values/value.js'
import { index } from '../zset/indexes.js'
import { add } from './add.js'
import { delay, type StateOptions } from './delay.js'
import { distinct } from './distinct.js'
import { joinRaw } from './join.js'
import { integrateDelayIndexed, integrateIndexed } from './integrate.js'
import { map } from './map.js'

export function transitiveClosure<N>(edges: Stream<Pair<N, N>>, options: StateOptions = {}): Stream<Pair<N, N>> {
  const ev = use(edges, 'transitiveClosure')
  const ctx = currentContext()
  if (ctx.scope.kind !== 'root') throw new GraphError('transitiveClosure inside perGroup is not supported')
  return ctx.frame('transitive_closure', options.name, () => {
    const sub = new Scope('fixedPoint', ev.path, ctx.scope)
    const vertex = ctx.vertex('fixedPoint', 'zset', [ev], { sub })
    ctx.inScope(sub, () => {
      sub.input = ctx.vertex('scopeInput', 'zset', [], {}, 'edges')
      const a = new Stream<Pair<N, N>>(sub.input, ctx)
      const closure = feedback<Pair<N, N>>()
      const found = delay(closure)
      const byEnd = index<Pair<N, N>>((p) => p.right)
      const byStart = index<Pair<N, N>>((p) => p.left)
      // join(found, a) by Theorem 5.5, built here to name the integral of the paths found.
      const foundSoFar = integrateIndexed(found, [byEnd])
      const joined = add(joinRaw(foundSoFar, a, byEnd, byStart), joinRaw(found, integrateDelayIndexed(a, [byStart]), byEnd, byStart))
      const extended = map(joined, (p) => pair(p.left.left, p.right.right))
      const result = distinct(add(a, extended))
      closure.close(result)
      sub.output = result.vertex
      vertex.params.outputIntegral = foundSoFar.vertex
    })
    return streamOf<Pair<N, N>>(vertex)
  })
}
