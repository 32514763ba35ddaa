/** mapMany: each row becomes any number of rows (linear, like map). */
import { type Stream, currentContext, streamOf, use } from '../graph/builder.js'
import { ZSet } from '../zset/zset.js'
import { Bag } from '../zset/bag.js'
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
    const bag = v.bagOutput ? new Bag<unknown>(v.path, `the function of ${v.path} returned a bad row`) : undefined
    const out = new ZSet<unknown>()
    const each = (value: unknown, weight: number): void => {
      const many = f(value) as Iterable<unknown>
      // Name the operator: JS's own "... is not iterable" does not say where.
      if (many == null || typeof (many as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
        throw new TypeError(`the function of ${v.path} must return an iterable of rows (an array, a Set, a generator...), got ${many === null ? 'null' : typeof many}`)
      }
      if (bag) for (const u of many) bag.push(u, weight)
      else for (const u of many) addMapped(out, u, weight, v.path)
    }
    if (a instanceof Bag) for (let i = 0; i < a.length; i++) each(a.values[i], a.weights[i]!)
    else for (const e of (a as ZSet<unknown>).entries.values()) each(e.value, e.weight)
    return bag ?? out
  },
})
