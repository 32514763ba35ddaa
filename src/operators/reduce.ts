/**
 * reduce: the linear aggregate of paper §11.1, made incremental as
 *   D ∘ makeSet ∘ I ∘ reduce
 * The step's change is summed (Σ weight × pick(row)) together with the change
 * in row count; the running totals are integrated and turned back into a
 * one-row ZSet whose changes are emitted. Inside `perGroup` a group whose rows
 * are all gone yields no row (SQL GROUP BY); outside, an empty input yields
 * `zero()` as stepping does.
 */
import { Scalar, type Stream, currentContext, streamOf, use } from '../graph/builder.js'
import type { Algebra } from '../graph/graph.js'
import { rowKey } from '../values/encode.js'
import { ZSet } from '../zset/zset.js'
import { addReducible, scaleReducible } from './algebra.js'
import type { StateOptions } from './delay.js'
import { differentiate } from './differentiate.js'
import { integrate } from './integrate.js'
import { registerOperator } from './registry.js'

export interface ReduceOptions<T, V> extends StateOptions {
  zero: () => V
  pick: (row: T) => V
}

/** Running totals of a reduce: the sum and how many rows (by weight) it is over. */
export interface Aggregate<V> {
  readonly sum: V
  readonly count: number
}

function aggregateAlgebra<V>(zero: () => V): Algebra<Aggregate<V>> {
  return {
    zero: () => ({ sum: zero(), count: 0 }),
    add: (a, b) => ({ sum: addReducible(a.sum, b.sum), count: a.count + b.count }),
    neg: (a) => ({ sum: scaleReducible(a.sum, -1), count: -a.count }),
  }
}

export function reduce<T, V>(s: Stream<T>, options: ReduceOptions<T, V>): Stream<V> {
  const { zero, pick } = options
  if (typeof zero !== 'function' || typeof pick !== 'function') throw new TypeError('reduce: zero and pick must be functions')
  const v = use(s, 'reduce')
  const ctx = currentContext()
  return ctx.frame('reduce', options.name, () => {
    const algebra = aggregateAlgebra(zero)
    const change = new Scalar<Aggregate<V>>(ctx.vertex('aggregate', 'scalar', [v], { zero, pick, algebra }), ctx, algebra)
    const totals = integrate(change)
    const retractEmpty = ctx.scope.kind === 'perGroup'
    const asSet = ctx.vertex('aggregateToSet', 'zset', [totals.vertex], { retractEmpty })
    return differentiate(streamOf<V>(asSet))
  })
}

/** The number of rows (sum of weights). */
export function count<T>(s: Stream<T>, options: StateOptions = {}): Stream<number> {
  return reduce(s, { zero: () => 0, pick: () => 1, ...options })
}

function sumChange(zero: () => unknown, pick: (row: unknown) => unknown, z: ZSet<unknown>): Aggregate<unknown> {
  let sum = zero()
  let count = 0
  if (sum instanceof ZSet) {
    // Sum ZSets in place rather than allocating one per row.
    const acc = sum.copy()
    for (const e of z.entries.values()) {
      acc.addInPlace(pick(e.value) as ZSet<unknown>, e.weight)
      count += e.weight
    }
    return { sum: acc, count }
  }
  for (const e of z.entries.values()) {
    sum = addReducible(sum, scaleReducible(pick(e.value), e.weight))
    count += e.weight
  }
  return { sum, count }
}

registerOperator('aggregate', {
  evaluate: (v, [a]) => sumChange(v.params.zero!, v.params.pick!, a as ZSet<unknown>),
})

registerOperator('aggregateToSet', {
  evaluate(v, [a]) {
    const { sum, count } = a as Aggregate<unknown>
    const out = new ZSet<unknown>()
    if (count === 0 && v.params.retractEmpty) return out
    out.addWeight(rowKey(sum), sum, 1)
    return out
  },
})
