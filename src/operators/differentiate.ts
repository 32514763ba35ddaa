/** differentiate: D(s)[t] = s[t] − s[t−1] (paper Def. 3.25): `add`, `neg` and `delay`. */
import { type Stream, Scalar, currentContext, use } from '../graph/builder.js'
import { add } from './add.js'
import { delay, type StateOptions } from './delay.js'
import { neg } from './neg.js'

export function differentiate<T>(a: Stream<T>, options?: StateOptions): Stream<T>
export function differentiate<T>(a: Scalar<T>, options?: StateOptions): Scalar<T>
export function differentiate<T>(a: Stream<T> | Scalar<T>, options: StateOptions = {}): Stream<T> | Scalar<T> {
  use(a, 'differentiate')
  return currentContext().frame('differentiate', options.name, () => {
    const delayed = delay(a as Stream<T>)
    return add(neg(delayed), a as Stream<T>)
  })
}
