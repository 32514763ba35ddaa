/** makeScalar: a stream of ZSets holding at most one row of weight 1 to a scalar stream (`zero()` when empty). */
import { Scalar, type Stream, currentContext, use } from '../graph/builder.js'
import { UsageError } from '../values/errors.js'
import { ZSet } from '../zset/zset.js'
import { reducibleAlgebra } from './algebra.js'
import { registerOperator } from './registry.js'

export function makeScalar<T>(s: Stream<T>, options: { zero: () => T }): Scalar<T> {
  const v = use(s, 'makeScalar')
  const ctx = currentContext()
  const algebra = reducibleAlgebra(options.zero)
  return new Scalar(ctx.vertex('makeScalar', 'scalar', [v], { zero: options.zero }), ctx, algebra)
}

registerOperator('makeScalar', {
  evaluate(v, [a]) {
    const z = a as ZSet<unknown>
    if (z.isEmpty()) return v.params.zero!()
    const [only] = z.entries.values()
    if (z.size === 1 && only!.weight === 1) return only!.value
    // Say what was wrong: too many rows, or one row with another weight ("got 1 rows" said neither).
    const got = z.size === 1 ? `one row with weight ${only!.weight}` : `${z.size} rows`
    throw new UsageError(`makeScalar (${v.path}): needs a ZSet of one row with weight 1, got ${got}`)
  },
})
