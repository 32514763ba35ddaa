/**
 * State one delay can read from another's instead of keeping its own.
 *
 * A fixed point (paper §7) keeps its inner state across steps, and an inner
 * integral of its result holds, once a step's fixed point is reached, the
 * integral of everything the fixed point has output: the same rows an outer
 * integral of its output holds after that step. When an outer `add(delay,
 * fixedPoint)` integral is read only through its sum (a join's "so far" side)
 * and needs no index the inner one lacks, the sum is read from the inner
 * state and the outer delay stores nothing (operators/add.ts reads the sum,
 * runtime/evaluate.ts plans no write, the stores give it the inner table).
 */
import { consumersIn, integratedStream, type Scope } from './graph.js'

export function shareFixedPointIntegrals(root: Scope): void {
  const consumers = consumersIn(root)
  for (const delay of root.delays) {
    const stream = integratedStream(delay)
    const innerSum = stream?.kind === 'fixedPoint' ? stream.params.outputIntegral : undefined
    const inner = innerSum?.inputs.find((v) => v.kind === 'delay' && integratedStream(v) !== undefined && v.inputs[0] === innerSum)
    if (!inner) continue
    const sum = delay.inputs[0]!
    // Read through the sum only: the delay's own value (the integral before this step) is not kept.
    if ((consumers.get(delay) ?? []).some((c) => c !== sum)) continue
    const held = new Set((inner.params.indexes ?? []).map((i) => i.id))
    if (!(delay.params.indexes ?? []).every((i) => held.has(i.id))) continue
    delay.params.stateOf = inner
  }
}
