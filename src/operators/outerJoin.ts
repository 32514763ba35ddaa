/**
 * outerJoin: left outer join, built from linear pieces as in stepping:
 *   joined + ↑(l ↦ (l, EMPTY))(a − ↑left(joined))
 * Left rows without a match pair with `EMPTY`.
 */
import { type Stream, currentContext, use } from '../graph/builder.js'
import { EMPTY, type Empty, pair, type Pair } from '../values/value.js'
import { add } from './add.js'
import { join, type JoinOptions } from './join.js'
import { map } from './map.js'
import { neg } from './neg.js'

export function outerJoin<L, R, K>(l: Stream<L>, r: Stream<R>, options: JoinOptions<L, R, K>): Stream<Pair<L, R | Empty>> {
  use(l, 'outerJoin')
  use(r, 'outerJoin')
  return currentContext().frame('outer_join', options.name, () => {
    const joined = join(l, r, { onLeft: options.onLeft, onRight: options.onRight })
    const matchedLefts = map(joined, (p) => p.left)
    const unmatched = add(l, neg(matchedLefts))
    const withEmpty = map(unmatched, (left): Pair<L, R | Empty> => pair(left, EMPTY))
    return add(withEmpty, joined as Stream<Pair<L, R | Empty>>)
  })
}
