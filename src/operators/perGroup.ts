/**
 * perGroup: lift a query to run on every group separately (stepping's
 * per_group). The sub-query is built once; at run time its operators are
 * applied group by group, and each delay inside keeps one state per group
 * (stored as `{ left: value, right: groupKey }` rows indexed by the key), read
 * for the groups that changed in one batched lookup.
 */
import { Grouped, Stream, currentContext, use } from '../graph/builder.js'
import { Scope } from '../graph/graph.js'
import { GraphError } from '../values/errors.js'

export function perGroup<T, K, U>(g: Grouped<T, K>, build: (group: Stream<T>) => Stream<U>): Grouped<U, K> {
  const gv = use(g, 'perGroup')
  const ctx = currentContext()
  if (ctx.scope.kind !== 'root') throw new GraphError('perGroup inside perGroup or recursion is not supported')
  return ctx.frame('per_group', undefined, () => {
    const sub = new Scope('perGroup', gv.path, ctx.scope)
    const vertex = ctx.vertex('perGroup', 'grouped', [gv], { sub })
    ctx.inScope(sub, () => {
      sub.input = ctx.vertex('scopeInput', 'zset', [], {}, 'group')
      const out = build(new Stream<T>(sub.input, ctx))
      if (!(out instanceof Stream)) throw new GraphError('perGroup: the function must return a stream')
      sub.output = use(out, 'perGroup result')
    })
    return new Grouped<U, K>(vertex, ctx)
  })
}
