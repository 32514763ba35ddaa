/**
 * Where rows need an identity. Consolidating a ZSet (equal rows add up) needs
 * every row's canonical text; linear operators do not care whether their input
 * was consolidated (paper §2–3: they are homomorphisms of the underlying bags),
 * so a vertex whose every consumer is linear may pass on a bag instead
 * (zset/bag.ts). Outputs, delays (state), joins, distinct and the like still
 * see consolidated ZSets: the runtime consolidates a bag before any consumer
 * not listed here.
 */
import { consumersIn, type Scope, type Vertex, type VertexKind } from './graph.js'

/** Operators that can build a bag cheaper than a ZSet (they skip computing identities). */
const BAG_PRODUCERS = new Set<VertexKind>(['map', 'mapMany', 'filter', 'join', 'add', 'neg', 'aggregateToSet', 'flatten'])

/** Operators that only read each row's value and weight, and give the same result for any split of the rows. */
export const BAG_CONSUMERS = new Set<VertexKind>(['map', 'mapMany', 'filter', 'add', 'neg', 'aggregate', 'group'])

export function markBagOutputs(scope: Scope, outputs: readonly Vertex[]): void {
  const consumers = consumersIn(scope)
  const exits = new Set([...outputs, ...(scope.output ? [scope.output] : [])])
  for (const v of scope.vertices) {
    const users = consumers.get(v) ?? []
    v.bagOutput =
      v.value === 'zset' &&
      BAG_PRODUCERS.has(v.kind) &&
      !v.params.consolidate &&
      !exits.has(v) &&
      users.length > 0 &&
      users.every((u) => BAG_CONSUMERS.has(u.kind))
    if (v.params.sub) markBagOutputs(v.params.sub, [])
  }
}
