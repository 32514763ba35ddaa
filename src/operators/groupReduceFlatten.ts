/** groupReduceFlatten: group → perGroup(reduce) → flatten, i.e. SQL `SELECT SUM(..), key GROUP BY key`. */
import { type Stream, currentContext, use } from '../graph/builder.js'
import type { Pair } from '../values/value.js'
import type { Index } from '../zset/indexes.js'
import { flatten } from './flatten.js'
import { group } from './group.js'
import { perGroup } from './perGroup.js'
import { reduce, type ReduceOptions } from './reduce.js'

export interface GroupReduceOptions<T, K, V> extends ReduceOptions<T, V> {
  by: Index<T, K>
}

export function groupReduceFlatten<T, K, V>(s: Stream<T>, options: GroupReduceOptions<T, K, V>): Stream<Pair<V, K>> {
  use(s, 'groupReduceFlatten')
  return currentContext().frame('group_reduce', options.name, () => {
    const grouped = group(s, { by: options.by })
    const reduced = perGroup(grouped, (g) => reduce(g, { zero: options.zero, pick: options.pick }))
    return flatten(reduced)
  })
}
