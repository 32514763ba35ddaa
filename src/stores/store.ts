/**
 * Stores keep the state of every delay vertex between iterations. The runtime
 * reads state through batched lookups (one per delay read per iteration) and
 * writes each delay's change at the end of a step; a store makes one
 * iteration all-or-nothing.
 */
import type { GraphDef, Vertex } from '../graph/graph.js'
import type { Time } from '../runtime/time.js'
import type { StateReader } from '../runtime/view.js'
import { GROUP_KEY_INDEX, type Index } from '../zset/indexes.js'
import type { ZSet } from '../zset/zset.js'

export interface Transaction {
  /** Read one delay vertex's state (as of the start of this step). */
  reader<T>(delay: Vertex): StateReader<T>
  /** state += delta */
  addDelta<T>(delay: Vertex, delta: ZSet<T>): Promise<void>
  /** state := value */
  replace<T>(delay: Vertex, value: ZSet<T>): Promise<void>
}

/** Reading a cache: the ZSet methods, with iteration as async iterables. */
export interface CacheReader<T> {
  iter(match?: Iterable<T>): AsyncIterable<[T, number]> | Iterable<[T, number]>
  iterByIndex<K>(index: Index<T, K>, matchKeys?: Iterable<K>): AsyncIterable<[K, T, number]> | Iterable<[K, T, number]>
}

export interface Store {
  readonly kind: 'memory' | 'sqlite' | 'postgres'
  readonly graph: GraphDef
  /** Run `work` as one all-or-nothing unit; iterations on one store run one at a time. */
  transaction<R>(time: Time, work: (tx: Transaction) => Promise<R>): Promise<R>
  cacheReader<T>(delay: Vertex): CacheReader<T>
  close(): Promise<void>
}

export { GROUP_KEY_INDEX }

/** The indexes a delay vertex's state is read through. */
export function stateIndexes(delay: Vertex): Index<any, any>[] {
  if (delay.scope.kind === 'perGroup') return [GROUP_KEY_INDEX]
  return [...(delay.params.indexes ?? [])]
}

/** Serialises async work: iterations on one store must not interleave. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve()
  run<R>(work: () => Promise<R>): Promise<R> {
    const result = this.tail.then(work, work)
    this.tail = result.catch(() => undefined)
    return result
  }
}
