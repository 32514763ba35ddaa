/** add: the group operation on streams (pointwise +). */
import { type Stream, Scalar, currentContext, streamOf, use } from '../graph/builder.js'
import { ZSet } from '../zset/zset.js'
import { Bag } from '../zset/bag.js'
import { ZSetView, materializeEach } from '../runtime/view.js'
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

/** An integral whose delay reads a fixed point's state (graph/sharedState.ts): that state already holds this step's change. */
function isSharedSum(x: unknown, add: Vertex): x is ZSetView<unknown> {
  return x instanceof ZSetView && isOwnSum(x, add) && (x.owner as Vertex).params.stateOf !== undefined
}

registerOperator('add', {
  // An integral is `delay(sum) + change`: keep it lazy so the state is not read whole.
  lazy: true,
  evaluate(v, [a, b]) {
    if (v.value === 'scalar') return v.params.algebra!.add(a, b)
    if (isSharedSum(a, v)) return a
    if (isSharedSum(b, v)) return b
    if (v.bagOutput) return concatenated(v, a, b)
    // A ZSet and a bag: the ZSet's rows keep their identities, only the bag's are made.
    if (a instanceof ZSet && b instanceof Bag) return a.add(b.toZSet())
    if (b instanceof ZSet && a instanceof Bag) return b.add(a.toZSet())
    // Two bags: one consolidation of both (one map, not three).
    if (a instanceof Bag && b instanceof Bag) return (concatenated(v, a, b) as Bag<unknown>).toZSet()
    // An integral's change may come as a bag: consolidate it, keep the state lazy.
    if (a instanceof Bag) a = a.toZSet()
    if (b instanceof Bag) b = b.toZSet()
    if (a instanceof ZSetView && b instanceof ZSet) return a.plus(b)
    if (b instanceof ZSetView && a instanceof ZSet) return b.plus(a)
    if (a instanceof ZSet && b instanceof ZSet) return a.add(b)
    // Both lazy, e.g. integrate(delay(x)) in recursion: keep this add's own running sum lazy
    // and read the other (the previous step's value, small) whole, not the whole sum.
    if (a instanceof ZSetView && b instanceof ZSetView) {
      if (isOwnSum(a, v)) return b.materialize().then((bz) => a.plus(bz))
      if (isOwnSum(b, v)) return a.materialize().then((az) => b.plus(az))
    }
    return undefined // the runtime materializes both and adds them
  },
})

/** Concatenate (no identities needed); synchronous unless a lazy state must be read. */
function concatenated(v: Vertex, a: unknown, b: unknown): Promise<Bag<unknown>> | Bag<unknown> {
  if (a instanceof ZSetView || b instanceof ZSetView) {
    return materializeEach([a, b]).then(([x, y]) => concatenated(v, x, y))
  }
  const blame = a instanceof Bag ? a.blameText : b instanceof Bag ? b.blameText : undefined
  const out = new Bag<unknown>(v.path, blame)
  out.append(a as ZSet<unknown> | Bag<unknown>)
  out.append(b as ZSet<unknown> | Bag<unknown>)
  return out
}
