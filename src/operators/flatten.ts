/** flatten: a grouped stream back to one ZSet of `{ left: row, right: groupKey }` pairs. */
import { type Grouped, type Stream, currentContext, streamOf, use } from '../graph/builder.js'
import { pairText, rowKey } from '../values/encode.js'
import { pair, type Pair } from '../values/value.js'
import { ZSet } from '../zset/zset.js'
import { Bag, consolidated } from '../zset/bag.js'
import type { GroupedValue } from '../runtime/view.js'
import { registerOperator } from './registry.js'

export function flatten<T, K>(g: Grouped<T, K>): Stream<Pair<T, K>> {
  const v = use(g, 'flatten')
  return streamOf(currentContext().vertex('flatten', 'zset', [v]))
}

registerOperator('flatten', {
  evaluate(v, [a]) {
    if (v.bagOutput) {
      // Linear consumers only: the pairs need no identity (graph/consolidation.ts).
      const bag = new Bag<Pair<unknown, unknown>>(v.path)
      for (const { key, value } of (a as GroupedValue).values()) {
        if (value instanceof Bag) for (let i = 0; i < value.length; i++) bag.push(pair(value.values[i], key), value.weights[i]!)
        else for (const e of (value as ZSet<unknown>).entries.values()) bag.push(pair(e.value, key), e.weight)
      }
      return bag
    }
    const out = new ZSet<Pair<unknown, unknown>>()
    for (const { key, value } of (a as GroupedValue).values()) {
      const keyKey = rowKey(key)
      for (const e of consolidated(value as ZSet<unknown>).entries.values()) {
        out.addWeight(pairText(e.key, keyKey), pair(e.value, key), e.weight)
      }
    }
    return out
  },
})
