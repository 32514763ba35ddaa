/** distinct: incremental by paper Prop. 6.3, distinct^Δ(a) = H(z⁻¹(I(a)), a). */
import { type Stream, currentContext, use } from '../graph/builder.js'
import type { StateOptions } from './delay.js'
import { haitch } from './haitch.js'
import { integrateDelay } from './integrate.js'

export function distinct<T>(a: Stream<T>, options: StateOptions = {}): Stream<T> {
  use(a, 'distinct')
  return currentContext().frame('distinct', options.name, () => haitch(integrateDelay(a), a))
}
