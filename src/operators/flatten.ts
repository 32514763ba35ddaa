/** flatten: a grouped stream back to one ZSet of `{ left: row, right: groupKey }` pairs. */
import { type Grouped, type Stream, currentContext, streamOf, use } from '../graph/builder.js'
import { pairText, rowKey } from '../values/encode.js'
import { pair, type Pair } from '../values/value.js'
import { ZSet } from '../zset/zset.js'
import { consolidated } from '../zset/bag.js'
import type { GroupedValue } from '../runtime/view.js'
import { registerOperator } from './registry.js'

export function flatten<T, K>(g: Grouped<T, K>): Stream<Pair<T, K>> {
  const v = use(g, 'flatten')
  return streamOf(currentContext().vertex('flatten', 'zset', [v]))
}

registerOperator('flatten', {
  evaluate(_v, [a]) {
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
