/**
 * Delays whose state never outlives a fixed point's run.
 *
 * A fixed point (paper §7, Def. 7.2) runs its inner circuit until its output is
 * empty. A delay of that very output (`z⁻¹(y)`, the new rows of the previous
 * inner step, as in `transitiveClosure`) therefore holds ∅ whenever a run ends:
 * it needs no table, only the previous inner step's output, which the runtime
 * keeps in memory during the run (runtime/evaluate.ts). Integrals inside a
 * fixed point are different: they keep growing across runs and stay stored.
 */
import { integratedStream, type Scope } from './graph.js'

export function markTransientDelays(scope: Scope): void {
  for (const v of scope.vertices) {
    const sub = v.params.sub
    if (!sub) continue
    if (sub.kind === 'fixedPoint') {
      for (const d of sub.delays) {
        if (d.value === 'zset' && d.inputs[0] === sub.output && integratedStream(d) === undefined) d.params.transient = true
      }
    }
    markTransientDelays(sub)
  }
}
