/**
 * Each primitive operator registers how it evaluates one step. The runtime calls
 * `evaluate` with the input values; operators marked `lazy` receive lazy views
 * of state (see runtime/view.ts) instead of whole ZSets.
 */
import type { Vertex, VertexKind } from '../graph/graph.js'

export interface OperatorImpl {
  readonly lazy?: boolean
  evaluate(vertex: Vertex, args: unknown[]): unknown
}

const impls = new Map<VertexKind, OperatorImpl>()

export function registerOperator(kind: VertexKind, impl: OperatorImpl): void {
  impls.set(kind, impl)
}

export function operatorImpl(kind: VertexKind): OperatorImpl {
  const impl = impls.get(kind)
  if (!impl) throw new Error(`no evaluation registered for operator kind "${kind}"`)
  return impl
}
