/**
 * cache: an integrated view kept in the store and read by index, from this
 * process or any other (stepping's Cache). `integrate` is the usual
 * add-plus-delay; the cache remembers which delay vertex holds the sum.
 */
import { type Stream, currentContext } from '../graph/builder.js'
import type { GraphDef, Vertex } from '../graph/graph.js'
import { GraphError } from '../values/errors.js'
import type { Index } from '../zset/indexes.js'
import type { CacheReader, Store } from '../stores/store.js'
import type { StateOptions } from './delay.js'
import { integrate, integrateIndexed } from './integrate.js'

export class Cache<T> {
  private readonly vertices = new WeakMap<GraphDef, Vertex>()
  private readonly buildings = new WeakSet<object>()

  /** Keep the running sum of `s`; returns the integrated stream. */
  integrate(s: Stream<T>, options: StateOptions = {}): Stream<T> {
    return this.remember(options, () => integrate(s))
  }

  /** Keep the running sum of `s`, indexed for `iterByIndex` reads. */
  integrateIndexed(s: Stream<T>, indexes: readonly Index<T, any>[], options: StateOptions = {}): Stream<T> {
    return this.remember(options, () => integrateIndexed(s, indexes))
  }

  private remember(options: StateOptions, build: () => Stream<T>): Stream<T> {
    const ctx = currentContext()
    if (ctx.scope.kind !== 'root') throw new GraphError('a cache must be integrated at the top level of the query')
    if (this.buildings.has(ctx)) throw new GraphError('a cache can be integrated into only once per graph')
    this.buildings.add(ctx)
    const sum = ctx.frame('cache', options.name, build)
    // The sum is add(delay(sum), change): its delay input holds the cache.
    const delay = sum.vertex.inputs.find((x) => x.kind === 'delay')
    if (!delay) throw new GraphError('internal: cache sum without a delay')
    delay.params.cache = true
    ctx.onCompiled.push((graph) => this.bind(graph, delay))
    return sum
  }

  /** @internal called by compile once the graph exists */
  bind(graph: GraphDef, delay: Vertex): void {
    this.vertices.set(graph, delay)
  }

  /** The cache's current contents in `store`. */
  zset(store: Store): CacheReader<T> {
    const v = this.vertices.get(store.graph)
    if (!v) throw new GraphError('this cache is not part of the graph the store was opened with')
    return store.cacheReader<T>(v)
  }
}

export function cache<T>(): Cache<T> {
  return new Cache<T>()
}

