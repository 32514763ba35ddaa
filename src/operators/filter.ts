/** filter: σ_p, keeps rows for which the predicate holds (linear). */
import { type Stream, currentContext, streamOf, use } from '../graph/builder.js'
import { ZSet } from '../zset/zset.js'
import { Bag } from '../zset/bag.js'
import { registerOperator } from './registry.js'

export function filter<T>(s: Stream<T>, f: (row: T) => boolean): Stream<T> {
  const v = use(s, 'filter')
  if (typeof f !== 'function') throw new TypeError('filter: f must be a function')
  return streamOf(currentContext().vertex('filter', 'zset', [v], { f }))
}

registerOperator('filter', {
  evaluate(v, [a]) {
    const f = v.params.f!
    if (a instanceof Bag) {
      // Kept a bag; the runtime consolidates it if a consumer needs identities.
      const out = new Bag<unknown>(a.source, a.blameText)
      for (let i = 0; i < a.length; i++) if (f(a.values[i])) out.push(a.values[i], a.weights[i]!)
      return out
    }
    const out = new ZSet<unknown>()
    for (const e of (a as ZSet<unknown>).entries.values()) {
      if (f(e.value)) out.entries.set(e.key, { key: e.key, value: e.value, weight: e.weight })
    }
    return out
  },
})
