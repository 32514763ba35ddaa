/**
 * integrate: I(s)[t] = Σ_{i≤t} s[i] (paper Def. 3.27), built as `add` plus
 * `delay` on a feedback loop. `integrateDelay` is z⁻¹∘I, the sum up to t−1.
 */
import { type Stream, Scalar, currentContext, feedback, use } from '../graph/builder.js'
import type { Index } from '../zset/indexes.js'
import { add } from './add.js'
import { delay, delayIndexed, type StateOptions } from './delay.js'

function loop<T>(a: Stream<T>, indexes: readonly Index<T, any>[] | undefined, name: string, options: StateOptions) {
  use(a, name)
  return currentContext().frame(name, options.name, () => {
    const sum = feedback<T>()
    const delayed = indexes ? delayIndexed(sum, indexes) : delay(sum)
    const added = add(delayed, a)
    sum.close(added)
    return { added, delayed }
  })
}

/** A scalar's integral and the same delayed by one step (the integrator's own delay). */
export function integrateScalar<T>(a: Scalar<T>, options: StateOptions = {}): { added: Scalar<T>; delayed: Scalar<T> } {
  use(a, 'integrate')
  const ctx = currentContext()
  return ctx.frame('integrate', options.name, () => {
    // Scalars have no feedback helper: close the loop by hand.
    const placeholder = ctx.vertex('feedback', 'scalar', [])
    ctx.feedbacks.push(placeholder)
    const delayed = new Scalar<T>(ctx.vertex('delay', 'scalar', [placeholder], { algebra: a.algebra }), ctx, a.algebra)
    const added = add(delayed, a)
    placeholder.params.closedBy = added.vertex
    return { added, delayed }
  })
}

export function integrate<T>(a: Stream<T>, options?: StateOptions): Stream<T>
export function integrate<T>(a: Scalar<T>, options?: StateOptions): Scalar<T>
export function integrate<T>(a: Stream<T> | Scalar<T>, options: StateOptions = {}): Stream<T> | Scalar<T> {
  if (a instanceof Scalar) return integrateScalar(a, options).added
  return loop(a, undefined, 'integrate', options).added
}

export function integrateIndexed<T>(a: Stream<T>, indexes: readonly Index<T, any>[], options: StateOptions = {}): Stream<T> {
  return loop(a, indexes, 'integrate_indexed', options).added
}

export function integrateDelay<T>(a: Stream<T>, options: StateOptions = {}): Stream<T> {
  return loop(a, undefined, 'integrate_delay', options).delayed
}

export function integrateDelayIndexed<T>(a: Stream<T>, indexes: readonly Index<T, any>[], options: StateOptions = {}): Stream<T> {
  return loop(a, indexes, 'integrate_delay_indexed', options).delayed
}
