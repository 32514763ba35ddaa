/** group: split each step's ZSet into per-key ZSets (only the groups that changed appear). */
import { Grouped, type Stream, currentContext, use } from '../graph/builder.js'
import type { Index } from '../zset/indexes.js'
import { ZSet } from '../zset/zset.js'
import { Bag } from '../zset/bag.js'
import { KeyGroups } from '../zset/keyGroups.js'
import type { GroupedValue } from '../runtime/view.js'
import { registerOperator } from './registry.js'

export function group<T, K>(s: Stream<T>, options: { by: Index<T, K> }): Grouped<T, K> {
  const v = use(s, 'group')
  if (!options?.by) throw new TypeError('group: `by` index is required')
  const ctx = currentContext()
  return new Grouped<T, K>(ctx.vertex('group', 'grouped', [v], { by: options.by }), ctx)
}

export function groupZSet<T>(z: ZSet<T> | Bag<T>, by: Index<T, unknown>): GroupedValue {
  const out: GroupedValue = new Map()
  if (z instanceof Bag) {
    // A bag splits into bags: the groups' consumers are linear too, or the runtime consolidates.
    const groups = new KeyGroups(by, (key, encoded) => {
      const g = { key, value: new Bag<T>(z.source, z.blameText) }
      out.set(encoded, g)
      return g.value
    })
    for (let i = 0; i < z.length; i++) groups.of(by.key(z.values[i]!)).push(z.values[i]!, z.weights[i]!)
    return out
  }
  const groups = new KeyGroups(by, (key, encoded) => {
    const g = { key, value: new ZSet<T>() }
    out.set(encoded, g)
    return g.value
  })
  for (const e of z.entries.values()) groups.of(by.key(e.value)).entries.set(e.key, { key: e.key, value: e.value, weight: e.weight })
  return out
}

registerOperator('group', { evaluate: (v, [a]) => groupZSet(a as ZSet<unknown>, v.params.by!) })
