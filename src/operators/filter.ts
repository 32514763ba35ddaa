/** filter: σ_p, keeps rows for which the predicate holds (linear). */
import { type Stream, currentContext, streamOf, use } from '../graph/builder.js'
import { ZSet } from '../zset/zset.js'
import { registerOperator } from './registry.js'

export function filter<T>(s: Stream<T>, f: (row: T) => boolean): Stream<T> {
  const v = use(s, 'filter')
  if (typeof f !== 'function') throw new TypeError('filter: f must be a function')
  return streamOf(currentContext().vertex('filter', 'zset', [v], { f }))
}

registerOperator('filter', {
  evaluate(v, [a]) {
    const f = v.params.f!
    const out = new ZSet<unknown>()
    for (const e of (a as ZSet<unknown>).entries.values()) {
      if (f(e.value)) out.entries.set(e.key, { key: e.key, value: e.value, weight: e.weight })
    }
    return out
  },
})
