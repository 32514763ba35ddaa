/**
 * haitch: the H of paper Prop. 6.3. Given the integral so far and this step's
 * change, emits +1 for rows whose weight becomes positive and −1 for rows whose
 * weight stops being positive. Only the changed rows are read from the integral.
 */
import { type Stream, currentContext, streamOf, use } from '../graph/builder.js'
import { ZSet } from '../zset/zset.js'
import { ZSetView } from '../runtime/view.js'
import { registerOperator } from './registry.js'

export function haitch<T>(soFar: Stream<T>, change: Stream<T>): Stream<T> {
  const a = use(soFar, 'haitch')
  const b = use(change, 'haitch')
  return streamOf(currentContext().vertex('haitch', 'zset', [a, b]))
}

export function haitchZSets<T>(before: ZSet<T>, change: ZSet<T>): ZSet<T> {
  const out = new ZSet<T>()
  for (const e of change.entries.values()) {
    const was = before.entries.get(e.key)?.weight ?? 0
    const now = was + e.weight
    if (was <= 0 && now > 0) out.addWeight(e.key, e.value, 1)
    else if (was > 0 && now <= 0) out.addWeight(e.key, e.value, -1)
  }
  return out
}

registerOperator('haitch', {
  lazy: true,
  async evaluate(_v, [soFar, change]) {
    const delta = change instanceof ZSetView ? await change.materialize() : (change as ZSet<unknown>)
    if (delta.isEmpty()) return new ZSet()
    const before = soFar instanceof ZSetView ? await soFar.lookupRows(delta) : (soFar as ZSet<unknown>)
    return haitchZSets(before, delta)
  },
})
