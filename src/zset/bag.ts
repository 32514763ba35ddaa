/**
 * Bags: Z-set values whose rows are not consolidated yet.
 *
 * A ZSet is a bag of weighted rows modulo consolidation (paper §2: equal rows
 * add their weights), and linear operators commute with consolidation: map,
 * filter, mapMany, `+` and the sum behind `reduce` give the same ZSet whether
 * their input was consolidated or not. Consolidating costs each row its
 * identity (canonical text) and a hash-map insert, so the compiler marks the
 * vertices whose every consumer is linear (graph/consolidation.ts) and those
 * build bags instead; a bag is consolidated only where identity is needed (a
 * state write, an output, a join's pairing, distinct...).
 */
import { rowKey } from '../values/encode.js'
import { InvalidValueError } from '../values/errors.js'
import { ZSet } from './zset.js'

export class Bag<T> {
  readonly values: T[] = []
  readonly weights: number[] = []
  private consolidated: ZSet<T> | undefined

  /** `source` names the vertex that built the bag; `blame` says what made a bad row, for errors. */
  constructor(
    readonly source: string,
    readonly blameText = `a row made by ${source}`,
  ) {}

  get length(): number {
    return this.values.length
  }

  push(value: T, weight: number): void {
    this.values.push(value)
    this.weights.push(weight)
  }

  /** Append the rows of a ZSet or another bag. */
  append(other: ZSet<T> | Bag<T>, times = 1): void {
    if (other instanceof Bag) {
      for (let i = 0; i < other.values.length; i++) this.push(other.values[i]!, other.weights[i]! * times)
    } else {
      for (const e of other.entries.values()) this.push(e.value, e.weight * times)
    }
  }

  /** Consolidate: equal rows summed, zero weights dropped; a row that is not a value names the function that made it. */
  toZSet(): ZSet<T> {
    // Two consumers that both need identities share one consolidation (operators never mutate inputs).
    if (this.consolidated) return this.consolidated
    const out = new ZSet<T>()
    for (let i = 0; i < this.values.length; i++) {
      const value = this.values[i]!
      let key
      try {
        key = rowKey(value)
      } catch (e) {
        throw e instanceof InvalidValueError ? e.at(this.blameText) : e
      }
      out.addWeight(key, value, this.weights[i]!)
    }
    this.consolidated = out
    return out
  }
}

/** A ZSet for a value that may be a bag. */
export function consolidated<T>(z: ZSet<T> | Bag<T>): ZSet<T> {
  return z instanceof Bag ? z.toZSet() : z
}
