/**
 * The in-memory store: each delay vertex's state is a ZSet with its indexes,
 * updated in place. A transaction keeps an undo log so that a failed
 * iteration leaves every state exactly as it was.
 */
import type { GraphDef, Vertex } from '../graph/graph.js'
import type { Graph } from '../graph/compile.js'
import type { Time } from '../runtime/time.js'
import { type ScanRow, type StateReader, ZSetView } from '../runtime/view.js'
import type { Index } from '../zset/indexes.js'
import { sortTies, ZSet } from '../zset/zset.js'
import { type CacheReader, Mutex, type Store, type Transaction, stateIndexes } from './store.js'

class MemoryStore implements Store {
  readonly kind = 'memory' as const
  private readonly states = new Map<Vertex, ZSet<unknown>>()
  private readonly mutex = new Mutex()

  constructor(readonly graph: GraphDef) {
    for (const d of graph.delays) this.states.set(d, new ZSet(stateIndexes(d)))
  }

  state(delay: Vertex): ZSet<unknown> {
    const s = this.states.get(delay)
    if (!s) throw new Error(`no state for ${delay.path}: the store was opened for another graph`)
    return s
  }

  transaction<R>(_time: Time, work: (tx: Transaction) => Promise<R>): Promise<R> {
    return this.mutex.run(async () => {
      const undo: (() => void)[] = []
      const tx: Transaction = {
        reader: <T>(delay: Vertex) => reader(this.state(delay) as ZSet<T>),
        addDelta: async (delay, delta) => {
          const s = this.state(delay)
          s.addInPlace(delta as ZSet<unknown>)
          undo.push(() => s.addInPlace(delta as ZSet<unknown>, -1))
        },
        replace: async (delay, value) => {
          const old = this.state(delay)
          this.states.set(delay, (value as ZSet<unknown>).copy(stateIndexes(delay)))
          undo.push(() => this.states.set(delay, old))
        },
      }
      try {
        return await work(tx)
      } catch (e) {
        for (let i = undo.length - 1; i >= 0; i--) undo[i]!()
        throw e
      }
    })
  }

  cacheReader<T>(delay: Vertex): CacheReader<T> {
    // The live state: reads see every committed iteration.
    return {
      iter: (match) => this.state(delay).iter(match as Iterable<unknown>) as Iterable<[T, number]>,
      iterByIndex: (index, keys) => (this.state(delay) as ZSet<T>).iterByIndex(index, keys),
    }
  }

  async close(): Promise<void> {}
}

function reader<T>(state: ZSet<T>): StateReader<T> {
  return {
    async lookup(index: Index<T, unknown>, encodedKeys: readonly string[]) {
      const out = new ZSet<T>()
      const s = state.indexState(index)
      if (s) {
        for (const k of encodedKeys) {
          const bucket = s.buckets.get(k)
          if (bucket) for (const e of bucket.rows.values()) out.addWeight(e.key, e.value, e.weight)
        }
        return out
      }
      const wanted = new Set(encodedKeys)
      for (const e of state.entries.values()) {
        if (wanted.has(index.encodeKey(index.key(e.value)))) out.addWeight(e.key, e.value, e.weight)
      }
      return out
    },
    async lookupRows(rows: ZSet<T>) {
      const out = new ZSet<T>()
      for (const key of rows.entries.keys()) {
        const e = state.entries.get(key)
        if (e) out.addWeight(e.key, e.value, e.weight)
      }
      return out
    },
    async *scan(index: Index<T, unknown>): AsyncIterable<ScanRow<T>> {
      const s = state.indexState(index)
      if (!s) {
        yield* ZSetView.of(state).scan(index)
        return
      }
      for (const bucket of s.orderedBuckets()) {
        for (const e of sortTies(bucket.rows.values())) {
          yield { keyEnc: bucket.encoded, tie: typeof e.key === 'number' ? String(e.key) : e.key, value: e.value, weight: e.weight }
        }
      }
    },
    async readAll() {
      return state.copy()
    },
  }
}

/** The embedded default: state in memory, for tests and single-process services. */
export function memoryStore(graph: Graph<any, any>): Store {
  return new MemoryStore(graph.def)
}
