/**
 * firstN: the first n rows (counting weights) of the whole input in index
 * order. Not linear, so by paper §11.1 it runs on the integral and its output
 * is differentiated: D ∘ firstN ∘ I. Only the first rows of the integral are
 * read, through the index.
 */
import { type Stream, currentContext, streamOf, use } from '../graph/builder.js'
import type { Index } from '../zset/indexes.js'
import { ZSet } from '../zset/zset.js'
import { rowKey } from '../values/encode.js'
import { ZSetView } from '../runtime/view.js'
import type { StateOptions } from './delay.js'
import { differentiate } from './differentiate.js'
import { integrateIndexed } from './integrate.js'
import { registerOperator } from './registry.js'

export interface FirstNOptions<T, K> extends StateOptions {
  index: Index<T, K>
  n: number
}

export function firstN<T, K>(s: Stream<T>, options: FirstNOptions<T, K>): Stream<T> {
  const { index, n } = options
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`firstN: n must be a whole number ≥ 0, got ${n}`)
  const v = use(s, 'firstN')
  const ctx = currentContext()
  return ctx.frame('first_n', options.name, () => {
    const soFar = integrateIndexed(streamOf<T>(v), [index])
    const firsts = streamOf<T>(ctx.vertex('firstN', 'zset', [soFar.vertex], { index, n }))
    return differentiate(firsts)
  })
}

registerOperator('firstN', {
  lazy: true,
  async evaluate(v, [a]) {
    const index = v.params.index!
    const n = v.params.n!
    const out = new ZSet<unknown>()
    if (n === 0) return out
    const view = a instanceof ZSetView ? a : ZSetView.of(a as ZSet<unknown>)
    let total = 0
    for await (const row of view.scan(index)) {
      if (row.weight <= 0) continue
      const w = Math.min(row.weight, n - total)
      out.addWeight(rowKey(row.value), row.value, w)
      total += w
      if (total >= n) break
    }
    return out
  },
})
