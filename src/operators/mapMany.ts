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
      const many = f(e.value) as Iterable<unknown>
      // Name the operator: JS's own "... is not iterable" does not say where.
      if (many == null || typeof (many as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
        throw new TypeError(`the function of ${v.path} must return an iterable of rows (an array, a Set, a generator...), got ${many === null ? 'null' : typeof many}`)
      }
      for (const u of many) addMapped(out, u, e.weight, v.path)
    }
    return out
  },
})
