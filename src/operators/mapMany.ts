/** mapMany: each row becomes any number of rows (linear, like map). */
import { type Stream, currentContext, streamOf, use } from '../graph/builder.js'
import { ZSet } from '../zset/zset.js'
import { addMapped } from './map.js'
import { registerOperator } from './registry.js'

export function mapMany<T, U>(s: Stream<T>, f: (row: T) => Iterable<U>): Stream<U> {
  const v = use(s, 'mapMany')
  if (typeof f !== 'function') throw new TypeError('mapMany: f must be a function')
  return streamOf(currentContext().vertex('mapMany', 'zset', [v], { f }))
}

registerOperator('mapMany', {
  evaluate(v, [a]) {
    const f = v.params.f!
    const out = new ZSet<unknown>()
    for (const e of (a as ZSet<unknown>).entries.values()) {
      for (const u of f(e.value) as Iterable<unknown>) addMapped(out, u, e.weight, v.path)
    }
    return out
  },
})
