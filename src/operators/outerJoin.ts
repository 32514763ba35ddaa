/**
 * outerJoin: left outer join, built from incremental pieces:
 *   joined + ↑(l ↦ (l, EMPTY))(a − a ⋈ distinct(keys(b)))
 * Left rows without a match pair with `EMPTY`.
 *
 * stepping computes the unmatched lefts as `a − ↑left(joined)`; that counts a
 * left row once per matching right row, so a left row matched by two right
 * rows came out as (l, EMPTY) with weight −1. We subtract the lefts whose key
 * is among the right side's (distinct) keys instead: SQL LEFT JOIN semantics,
 * identical to stepping's whenever each key has at most one right row. When
 * the right side is known to have at most one row per key (a group-reduce's
 * result joined on its group key), stepping's form is used: no distinct, no
 * second join.
 */
import { type Stream, currentContext, use } from '../graph/builder.js'
import { EMPTY, type Empty, pair, type Pair } from '../values/value.js'
import { GROUP_KEY_INDEX, index, type Index } from '../zset/indexes.js'
import { add } from './add.js'
import { distinct } from './distinct.js'
import { join, type JoinOptions } from './join.js'
import { map } from './map.js'
import { neg } from './neg.js'

/** A right-side join key as a row of its own. */
type KeyRow<K> = { readonly key: K }

/** An index on `{ key }` rows whose key encodes exactly as `on`'s does, so it joins with the same left index. */
function keyRowIndex<K>(on: Index<any, K>): Index<KeyRow<K>, K> {
  if (on.composite) {
    const n = on.ascending.length
    return index<KeyRow<any>>((r) => Array.from({ length: n }, (_, i) => r.key[i]), { ascending: on.ascending }) as Index<KeyRow<K>, K>
  }
  return index<KeyRow<K>>((r) => r.key, { ascending: on.ascending[0] }) as Index<KeyRow<K>, K>
}

/**
 * Whether `r` holds at most one row, of weight 1, per `on` key at every step: a
 * per-group reduce's flattened result (one row per group, paper §11.1) read by
 * its group key.
 */
function oneRowPerKey(r: Stream<unknown>, on: Index<any, unknown>): boolean {
  const perGroup = r.vertex.kind === 'flatten' ? r.vertex.inputs[0] : undefined
  return perGroup?.kind === 'perGroup' && perGroup.params.sub?.output?.params.totalsOf !== undefined && on.id === GROUP_KEY_INDEX.id
}

export function outerJoin<L, R, K>(l: Stream<L>, r: Stream<R>, options: JoinOptions<L, R, K>): Stream<Pair<L, R | Empty>> {
  use(l, 'outerJoin')
  use(r, 'outerJoin')
  const { onLeft, onRight } = options
  if (!onLeft || !onRight) throw new TypeError('outerJoin: onLeft and onRight indexes are required')
  return currentContext().frame('outer_join', options.name, () => {
    const joined = join(l, r, { onLeft, onRight })
    let matchedLefts: Stream<L>
    if (oneRowPerKey(r, onRight)) {
      // Each left row matches at most one right row: the joined lefts are the matched ones.
      matchedLefts = map(joined, (p) => p.left)
    } else {
      const rightKeys = distinct(map(r, (row): KeyRow<K> => ({ key: onRight.key(row) })))
      matchedLefts = map(join(l, rightKeys, { onLeft, onRight: keyRowIndex(onRight) }), (p) => p.left)
    }
    const unmatched = add(l, neg(matchedLefts))
    // A left row and its first match often arrive in one step, and a match that changes
    // retracts and re-adds its left row: consolidated, those rows cancel here instead of
    // going on as (l, EMPTY) pairs, +1 and −1, through every map that follows.
    unmatched.vertex.params.consolidate = true
    const withEmpty = map(unmatched, (left): Pair<L, R | Empty> => pair(left, EMPTY))
    return add(withEmpty, joined as Stream<Pair<L, R | Empty>>)
  })
}
