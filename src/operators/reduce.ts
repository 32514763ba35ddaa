/**
 * reduce: the linear aggregate of paper §11.1, made incremental as
 *   D ∘ makeSet ∘ I ∘ reduce
 * The step's change is summed (Σ weight × pick(row)) together with the change
 * in row count; the running totals are integrated and turned back into a
 * one-row ZSet whose changes are emitted. Inside `perGroup` a group whose rows
 * are all gone yields no row (SQL GROUP BY); outside, an empty input yields
 * `zero()` as stepping does.
 *
 * Inside `perGroup` the D needs no state of its own: D(f(I(x))) = f(I(x)) −
 * f(z⁻¹(I(x))) for the pointwise f = makeSet, and z⁻¹(I(x)) is the
 * integrator's own delay — valid because f(0) = ∅ there, as z⁻¹ starts from ∅.
 * That is one stored row per group instead of two.
 */
import { Scalar, type Stream, currentContext, streamOf, use } from '../graph/builder.js'
import type { Algebra } from '../graph/graph.js'
import { rowKey } from '../values/encode.js'
import { ZSet } from '../zset/zset.js'
import { Bag } from '../zset/bag.js'
import { addReducible, scaleReducible } from './algebra.js'
import type { StateOptions } from './delay.js'
import { differentiate } from './differentiate.js'
import { integrate, integrateScalar } from './integrate.js'
import { add } from './add.js'
import { neg } from './neg.js'
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
    if (ctx.scope.kind === 'perGroup') {
      const totals = integrateScalar(change)
      const now = streamOf<V>(ctx.vertex('aggregateToSet', 'zset', [totals.added.vertex], { retractEmpty: true }))
      const before = streamOf<V>(ctx.vertex('aggregateToSet', 'zset', [totals.delayed.vertex], { retractEmpty: true }))
      const result = add(neg(before), now)
      result.vertex.params.totalsOf = totals.delayed.vertex
      return result
    }
    const asSet = ctx.vertex('aggregateToSet', 'zset', [integrate(change).vertex], { retractEmpty: false })
    return differentiate(streamOf<V>(asSet))
  })
}

/** The number of rows (sum of weights). */
export function count<T>(s: Stream<T>, options: StateOptions = {}): Stream<number> {
  return reduce(s, { zero: () => 0, pick: () => 1, ...options })
}

function bagOf(z: ZSet<unknown>): Bag<unknown> {
  const bag = new Bag<unknown>('')
  bag.append(z)
  return bag
}

function sumChange(zero: () => unknown, pick: (row: unknown) => unknown, z: ZSet<unknown> | Bag<unknown>): Aggregate<unknown> {
  let sum = zero()
  let count = 0
  // The sum is linear, so a bag (unconsolidated rows) sums to the same as its ZSet.
  const { values, weights } = z instanceof Bag ? z : bagOf(z)
  if (sum instanceof ZSet) {
    // Sum ZSets in place rather than allocating one per row.
    const acc = sum.copy()
    for (let i = 0; i < values.length; i++) {
      acc.addInPlace(pick(values[i]) as ZSet<unknown>, weights[i]!)
      count += weights[i]!
    }
    return { sum: acc, count }
  }
  if (typeof sum === 'number') {
    // Plain numbers (the common SUM/COUNT): no per-row dispatch.
    for (let i = 0; i < values.length; i++) {
      const x = pick(values[i])
      if (typeof x === 'number' && typeof sum === 'number') sum += x * weights[i]!
      else sum = addReducible(sum, scaleReducible(x, weights[i]!))
      count += weights[i]!
    }
    return { sum, count }
  }
  for (let i = 0; i < values.length; i++) {
    sum = addReducible(sum, scaleReducible(pick(values[i]), weights[i]!))
    count += weights[i]!
  }
  return { sum, count }
}

registerOperator('aggregate', {
  evaluate: (v, [a]) => sumChange(v.params.zero!, v.params.pick!, a as ZSet<unknown> | Bag<unknown>),
})

registerOperator('aggregateToSet', {
  evaluate(v, [a]) {
    const { sum, count } = a as Aggregate<unknown>
    if (v.bagOutput) {
      // Its consumer (the −/+ of D) is linear: the row's identity can wait for the consolidation after it.
      const bag = new Bag<unknown>(v.path, `the sum of ${v.path}`)
      if (!(count === 0 && v.params.retractEmpty)) bag.push(sum, 1)
      return bag
    }
    const out = new ZSet<unknown>()
    if (count === 0 && v.params.retractEmpty) return out
    out.addWeight(rowKey(sum), sum, 1)
    return out
  },
})
