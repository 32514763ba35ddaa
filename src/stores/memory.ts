/**
 * The in-memory store: each delay vertex's state is a ZSet with its indexes,
 * updated in place. A transaction keeps an undo log so that a failed
 * iteration leaves every state exactly as it was.
 */
import type { GraphDef, Vertex } from '../graph/graph.js'
import type { Graph } from '../graph/compile.js'
import type { Time } from '../runtime/time.js'
import type { ScanRow, StateReader } from '../runtime/view.js'
import { backend, loadNative } from '../native/binding.js'
import { createStateTable, type StateTable } from '../zset/state.js'
import { UsageError } from '../values/errors.js'
import type { Index } from '../zset/indexes.js'
import type { RowsByKey } from '../zset/rowsByKey.js'
import type { ZSet } from '../zset/zset.js'
import { type CacheReader, Mutex, type Store, type Transaction, stateIndexes } from './store.js'

class MemoryStore implements Store {
  readonly kind = 'memory' as const
  private readonly states = new Map<Vertex, StateTable<unknown>>()
  private readonly mutex = new Mutex()
  private closed = false

  constructor(
    readonly graph: GraphDef,
    /** The state tables' backend. */
    readonly backend: 'native' | 'ts',
  ) {
    for (const d of graph.storedDelays) if (!d.params.stateOf) this.states.set(d, createStateTable(stateIndexes(d), backend))
  }

  state(delay: Vertex): StateTable<unknown> {
    if (this.closed) throw new UsageError('the memory store is closed')
    // A delay that reads another's state (graph/sharedState.ts) has that delay's table, whatever replaced it.
    const s = this.states.get(delay.params.stateOf ?? delay)
    if (!s) throw new Error(`no state for ${delay.path}: the store was opened for another graph`)
    return s
  }

  transaction<R>(_time: Time, work: (tx: Transaction) => Promise<R>): Promise<R> {
    return this.mutex.run(async () => {
      const tx = new MemoryTransaction(this)
      try {
        return await work(tx)
      } catch (e) {
        tx.undo()
        throw e
      }
    })
  }

  /** @internal Put `table` in `delay`'s place (a replaced state, or the old one back). */
  setState(delay: Vertex, table: StateTable<unknown>): void {
    this.states.set(delay, table)
  }

  cacheReader<T>(delay: Vertex): CacheReader<T> {
    // The live state: reads see every committed iteration.
    return {
      iter: (match) => (this.state(delay) as StateTable<T>).iter(match),
      iterByIndex: (index, keys) => (this.state(delay) as StateTable<T>).iterByIndex(index, keys),
    }
  }

  /** Frees every state table now (native tables hold memory V8 does not manage); the store is unusable afterwards. */
  async close(): Promise<void> {
    await this.mutex.run(async () => {
      this.closed = true
      for (const s of this.states.values()) s.release()
    })
  }
}

/**
 * Reads of one state table. A class rather than an object of closures: a transaction makes
 * one per delay vertex it reads, and at one row per iteration making closures showed up.
 */
/**
 * One iteration on the memory store: changes applied in place, each with its inverse
 * logged, so that a failed iteration is undone. A class rather than an object of closures:
 * one is made per iteration.
 */
class MemoryTransaction implements Transaction {
  private readonly undoLog: (() => void)[] = []

  constructor(private readonly store: MemoryStore) {}

  reader<T>(delay: Vertex): StateReader<T> {
    return new TableReader(this.store.state(delay) as StateTable<T>)
  }

  async addDelta(delay: Vertex, delta: ZSet<unknown>): Promise<void> {
    const s = this.store.state(delay)
    s.apply(delta)
    this.undoLog.push(() => s.apply(delta, -1))
  }

  async replace(delay: Vertex, value: ZSet<unknown>): Promise<void> {
    const old = this.store.state(delay)
    const fresh = createStateTable<unknown>(stateIndexes(delay), this.store.backend)
    fresh.apply(value)
    this.store.setState(delay, fresh)
    this.undoLog.push(() => this.store.setState(delay, old))
  }

  /** Every change of this iteration taken back, newest first. */
  undo(): void {
    for (let i = this.undoLog.length - 1; i >= 0; i--) this.undoLog[i]!()
  }
}

class TableReader<T> implements StateReader<T> {
  constructor(private readonly state: StateTable<T>) {}

  async lookupEach(index: Index<T, unknown>, encodedKeys: readonly string[]): Promise<RowsByKey<T>> {
    return this.state.lookupEach(index, encodedKeys)
  }

  async lookupRows(rows: ZSet<T>): Promise<ZSet<T>> {
    return this.state.lookupRows(rows)
  }

  async *scan(index: Index<T, unknown>): AsyncIterable<ScanRow<T>> {
    yield* this.state.scan(index)
  }

  async readAll(): Promise<ZSet<T>> {
    return this.state.toZSet()
  }
}

export interface MemoryStoreOptions {
  /**
   * Where the state tables live: `'native'` (the Rust core, loaded on demand;
   * an error if the addon cannot be loaded) or `'ts'`. Defaults to the backend
   * in use (`st.backend`, which `STEPPING_BACKEND` sets).
   */
  backend?: 'native' | 'ts'
}

/** The embedded default: state in memory, for tests and single-process services. */
export function memoryStore(graph: Graph<any, any>, options: MemoryStoreOptions = {}): Store {
  const which = options.backend ?? backend
  if (which !== 'native' && which !== 'ts') throw new TypeError(`memoryStore: backend must be "native" or "ts", got ${String(which)}`)
  if (which === 'native' && !loadNative()) throw new Error('memoryStore: the native backend is not available (the addon did not load)')
  return new MemoryStore(graph.def, which)
}
