/** Addition on reducible scalars (numbers, bigints, ZSets), for reduce and scalar streams. */
import type { Algebra } from '../graph/graph.js'
import { InvalidValueError } from '../values/errors.js'
import { ZSet } from '../zset/zset.js'

/** A reducible value: number, bigint or ZSet. */
export type Reducible = number | bigint | ZSet<any>

export function addReducible<V>(a: V, b: V): V {
  if (typeof a === 'number' && typeof b === 'number') return (a + b) as V
  if (typeof a === 'bigint' && typeof b === 'bigint') return (a + b) as V
  if (a instanceof ZSet && b instanceof ZSet) return a.add(b) as V
  throw new InvalidValueError(`cannot add ${describe(a)} and ${describe(b)} (reduce sums numbers, bigints or ZSets)`, '')
}

export function scaleReducible<V>(a: V, w: number): V {
  if (typeof a === 'number') return (a * w) as V
  if (typeof a === 'bigint') return (a * BigInt(w)) as V
  if (a instanceof ZSet) return a.mul(w) as V
  throw new InvalidValueError(`cannot sum ${describe(a)} (reduce sums numbers, bigints or ZSets)`, '')
}

function describe(v: unknown): string {
  return v instanceof ZSet ? 'a ZSet' : v === null ? 'null' : `a ${typeof v}`
}

export function reducibleAlgebra<V>(zero: () => V): Algebra<V> {
  return { zero, add: addReducible, neg: (a) => scaleReducible(a, -1) }
}
