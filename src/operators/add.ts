/** add: the group operation on streams (pointwise +). */
import { type Stream, Scalar, currentContext, streamOf, use } from '../graph/builder.js'
import { ZSet } from '../zset/zset.js'
import { ZSetView } from '../runtime/view.js'
import type { Vertex } from '../graph/graph.js'
import { registerOperator } from './registry.js'

export function add<T>(a: Stream<T>, b: Stream<T>): Stream<T>
export function add<T>(a: Scalar<T>, b: Scalar<T>): Scalar<T>
export function add<T>(a: Stream<T> | Scalar<T>, b: Stream<T> | Scalar<T>): Stream<T> | Scalar<T> {
  const va = use(a, 'add')
  const vb = use(b, 'add')
  const ctx = currentContext()
  if (a instanceof Scalar && b instanceof Scalar) {
    return new Scalar(ctx.vertex('add', 'scalar', [va, vb], { algebra: a.algebra }), ctx, a.algebra)
  }
  if (a instanceof Scalar || b instanceof Scalar) throw new TypeError('add: cannot add a scalar stream and a ZSet stream')
  return streamOf(ctx.vertex('add', 'zset', [va, vb]))
}

/** The view is the state of the delay that feeds this very add back: its integral. */
function isOwnSum(view: ZSetView<unknown>, add: Vertex): boolean {
  return (view.owner as Vertex | undefined)?.inputs[0] === add
}

registerOperator('add', {
  // An integral is `delay(sum) + change`: keep it lazy so the state is not read whole.
  lazy: true,
  async evaluate(v, [a, b]) {
    if (v.value === 'scalar') return v.params.algebra!.add(a, b)
    if (a instanceof ZSetView && b instanceof ZSet) return a.plus(b)
    if (b instanceof ZSetView && a instanceof ZSet) return b.plus(a)
    if (a instanceof ZSet && b instanceof ZSet) return a.add(b)
    // Both lazy, e.g. integrate(delay(x)) in recursion: keep this add's own running sum lazy
    // and read the other (the previous step's value, small) whole, not the whole sum.
    if (a instanceof ZSetView && b instanceof ZSetView) {
      if (isOwnSum(a, v)) return a.plus(await b.materialize())
      if (isOwnSum(b, v)) return b.plus(await a.materialize())
    }
    return undefined // the runtime materializes both and adds them
  },
})
