/** neg: the group inverse on streams. */
import { type Stream, Scalar, currentContext, streamOf, use } from '../graph/builder.js'
import { ZSet } from '../zset/zset.js'
import { Bag } from '../zset/bag.js'
import { registerOperator } from './registry.js'

export function neg<T>(a: Stream<T>): Stream<T>
export function neg<T>(a: Scalar<T>): Scalar<T>
export function neg<T>(a: Stream<T> | Scalar<T>): Stream<T> | Scalar<T> {
  const va = use(a, 'neg')
  const ctx = currentContext()
  if (a instanceof Scalar) return new Scalar(ctx.vertex('neg', 'scalar', [va], { algebra: a.algebra }), ctx, a.algebra)
  return streamOf(ctx.vertex('neg', 'zset', [va]))
}

registerOperator('neg', {
  evaluate(v, [a]) {
    if (v.value === 'scalar') return v.params.algebra!.neg(a)
    if (a instanceof Bag) {
      const out = new Bag<unknown>(a.source, a.blameText)
      out.append(a, -1)
      return out
    }
    return (a as ZSet<unknown>).neg()
  },
})
