/** map: the lifted function ↑f on ZSets (linear, so incremental as is — paper Prop. 3.8). */
import { type Stream, currentContext, streamOf, use } from '../graph/builder.js'
import { rowKey } from '../values/encode.js'
import { InvalidValueError } from '../values/errors.js'
import { ZSet } from '../zset/zset.js'
import { Bag } from '../zset/bag.js'
import { registerOperator } from './registry.js'

export function map<T, U>(s: Stream<T>, f: (row: T) => U): Stream<U> {
  const v = use(s, 'map')
  if (typeof f !== 'function') throw new TypeError('map: f must be a function')
  return streamOf(currentContext().vertex('map', 'zset', [v], { f }))
}

/** Apply f to a row, naming the operator when f returns something that is not a value. */
export function addMapped<U>(out: ZSet<U>, value: U, weight: number, path: string): void {
  let key
  try {
    key = rowKey(value)
  } catch (e) {
    throw e instanceof InvalidValueError ? e.at(`the function of ${path} returned a bad row`) : e
  }
  out.addWeight(key, value, weight)
}

registerOperator('map', {
  evaluate(v, [a]) {
    const f = v.params.f!
    if (v.bagOutput) {
      // Every consumer is linear: the mapped rows need no identity (graph/consolidation.ts).
      const out = new Bag<unknown>(v.path, `the function of ${v.path} returned a bad row`)
      if (a instanceof Bag) for (let i = 0; i < a.length; i++) out.push(f(a.values[i]), a.weights[i]!)
      else for (const e of (a as ZSet<unknown>).entries.values()) out.push(f(e.value), e.weight)
      return out
    }
    const out = new ZSet<unknown>()
    if (a instanceof Bag) for (let i = 0; i < a.length; i++) addMapped(out, f(a.values[i]), a.weights[i]!, v.path)
    else for (const e of (a as ZSet<unknown>).entries.values()) addMapped(out, f(e.value), e.weight, v.path)
    return out
  },
})
