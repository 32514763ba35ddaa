/** identityPrint: passes its input through, printing it each step (for debugging a query). */
import { type Stream, currentContext, streamOf, use } from '../graph/builder.js'
import { registerOperator } from './registry.js'

export function identityPrint<T>(s: Stream<T>, print: (text: string) => void = console.log): Stream<T> {
  const v = use(s, 'identityPrint')
  return streamOf(currentContext().vertex('identityPrint', 'zset', [v], { f: print }))
}

registerOperator('identityPrint', {
  evaluate(v, [a]) {
    v.params.f!(`${v.path}:\n${String(a)}`)
    return a
  },
})
