/**
 * delay: z⁻¹ (paper Def. 3.13), the only stateful operator. Its output at step t
 * is its input at t−1; the store keeps that value between steps (one table per
 * delay vertex in the SQL stores). `delayIndexed` also declares the indexes the
 * state is read through.
 */
import { type Stream, Scalar, currentContext, streamOf, use } from '../graph/builder.js'
import type { Index } from '../zset/indexes.js'

export interface StateOptions {
  /** Pins the vertex's path (and so its table name). */
  name?: string
}

export function delay<T>(a: Stream<T>, options?: StateOptions): Stream<T>
export function delay<T>(a: Scalar<T>, options?: StateOptions): Scalar<T>
export function delay<T>(a: Stream<T> | Scalar<T>, options: StateOptions = {}): Stream<T> | Scalar<T> {
  const va = use(a, 'delay')
  const ctx = currentContext()
  return pinned(options, () => {
    if (a instanceof Scalar) return new Scalar(ctx.vertex('delay', 'scalar', [va], { algebra: a.algebra }), ctx, a.algebra)
    return streamOf<T>(ctx.vertex('delay', 'zset', [va], { indexes: [] }))
  })
}

export function delayIndexed<T>(a: Stream<T>, indexes: readonly Index<T, any>[], options: StateOptions = {}): Stream<T> {
  const va = use(a, 'delayIndexed')
  const ctx = currentContext()
  return pinned(options, () => streamOf<T>(ctx.vertex('delay', 'zset', [va], { indexes: dedupe(indexes) })))
}

function dedupe<T>(indexes: readonly Index<T, any>[]): Index<T, any>[] {
  const seen = new Map<string, Index<T, any>>()
  for (const i of indexes) if (!seen.has(i.id)) seen.set(i.id, i)
  return [...seen.values()]
}

/** Run `make` inside a frame named by the user, when they gave a name. */
export function pinned<R>(options: StateOptions, make: () => R): R {
  return options.name === undefined ? make() : currentContext().frame('', options.name, make)
}
