/** makeSet: a scalar stream to a stream of one-row ZSets `{ value: 1 }`. */
import { type Scalar, type Stream, currentContext, streamOf, use } from '../graph/builder.js'
import { rowKey } from '../values/encode.js'
import { ZSet } from '../zset/zset.js'
import { registerOperator } from './registry.js'

export function makeSet<T>(s: Scalar<T>): Stream<T> {
  const v = use(s, 'makeSet')
  return streamOf(currentContext().vertex('makeSet', 'zset', [v]))
}

export function singleton<T>(value: T): ZSet<T> {
  const z = new ZSet<T>()
  z.addWeight(rowKey(value), value, 1)
  return z
}

registerOperator('makeSet', { evaluate: (_v, [a]) => singleton(a) })
