/**
 * Where our engine's ingest time goes: inside the store's reads, inside its writes
 * (encoding and SQL), in the rest of the transaction (begin, commit), in the query
 * itself (the transaction's work outside store calls), and before the transaction
 * (the input rows made a ZSet). The store is wrapped, not changed: the runtime only
 * calls `graph` and `transaction`, and a transaction's work awaits each store call
 * before going on, so the time across a call's await is the store's.
 *
 * The query's share answers "how close to the storage floor could we get": an
 * engine whose store cost only the floor's SQL would still spend the query's time.
 */
import type { Vertex } from '../../src/graph/graph.js'
import type { ScanRow, StateReader } from '../../src/runtime/view.js'
import type { Store, Transaction } from '../../src/stores/store.js'
import type { Index } from '../../src/zset/indexes.js'
import type { RowsByKey } from '../../src/zset/rowsByKey.js'
import type { ZSet } from '../../src/zset/zset.js'
import { now } from './stats.js'

/** Milliseconds spent in each part, summed over the iterations measured. */
export interface TimeSplit {
  storeReads: number
  storeWrites: number
  /** The transaction's own cost: begin, commit, waiting for the lock. */
  transaction: number
  /** The transaction's work outside store calls: the circuit's operators. */
  query: number
  /** Inside the measured call, outside the transaction: the input rows as a ZSet, the action. */
  input: number
}

export interface TimedStore {
  store: Store
  split: TimeSplit
  /** Count only what runs inside `measure` (setup batches are left out). */
  measure<R>(work: () => Promise<R>): Promise<R>
}

/** The split and whether it is counting; store calls add their time to it. */
class Clock {
  on = false
  readonly split: TimeSplit = { storeReads: 0, storeWrites: 0, transaction: 0, query: 0, input: 0 }

  add(part: 'storeReads' | 'storeWrites', since: number): void {
    if (this.on) this.split[part] += now() - since
  }

  /** `work` (a store call started at `since`), its time added to `part` when it settles. */
  async timed<R>(part: 'storeReads' | 'storeWrites', since: number, work: Promise<R>): Promise<R> {
    try {
      return await work
    } finally {
      this.add(part, since)
    }
  }

  inStore(): number {
    return this.split.storeReads + this.split.storeWrites
  }

  /** Every part but `input`, which is what the measured call's time leaves over. */
  counted(): number {
    return this.inStore() + this.split.transaction + this.split.query
  }
}

// Classes, not objects of closures: a transaction asks for a reader per delay vertex it reads,
// and at one row per iteration making closures (and bound functions) cost ~8% of the time.
// Each call reads the clock before it starts the store's work (arguments run left to right).
class TimedReader<T> implements StateReader<T> {
  constructor(
    private readonly inner: StateReader<T>,
    private readonly clock: Clock,
  ) {}

  lookupEach(index: Index<T, unknown>, encodedKeys: readonly string[]): Promise<RowsByKey<T>> {
    return this.clock.timed('storeReads', now(), this.inner.lookupEach(index, encodedKeys))
  }

  lookupRows(rows: ZSet<T>): Promise<ZSet<T>> {
    return this.clock.timed('storeReads', now(), this.inner.lookupRows(rows))
  }

  readAll(): Promise<ZSet<T>> {
    return this.clock.timed('storeReads', now(), this.inner.readAll())
  }

  async *scan(index: Index<T, unknown>): AsyncIterable<ScanRow<T>> {
    // Only the waits for the next row are the store's: the consumer's work between rows is the query's.
    const rows = this.inner.scan(index)[Symbol.asyncIterator]()
    for (;;) {
      const t0 = now()
      const next = await rows.next()
      this.clock.add('storeReads', t0)
      if (next.done) return
      yield next.value
    }
  }
}

class TimedTransaction implements Transaction {
  constructor(
    private readonly inner: Transaction,
    private readonly clock: Clock,
  ) {}

  reader<T>(delay: Vertex): StateReader<T> {
    return new TimedReader(this.inner.reader<T>(delay), this.clock)
  }

  addDelta<T>(delay: Vertex, delta: ZSet<T>): Promise<void> {
    return this.clock.timed('storeWrites', now(), this.inner.addDelta(delay, delta))
  }

  replace<T>(delay: Vertex, value: ZSet<T>): Promise<void> {
    return this.clock.timed('storeWrites', now(), this.inner.replace(delay, value))
  }
}

export function timedStore(inner: Store): TimedStore {
  const clock = new Clock()
  const { split } = clock
  const store: Store = {
    kind: inner.kind,
    graph: inner.graph,
    cacheReader: (delay) => inner.cacheReader(delay),
    close: () => inner.close(),
    async transaction(time, work) {
      const t0 = now()
      let inWork = 0
      try {
        return await inner.transaction(time, async (tx) => {
          const t1 = now()
          const before = clock.inStore()
          try {
            return await work(new TimedTransaction(tx, clock))
          } finally {
            // A store may run the work again (after a conflict): every run counts.
            const ran = now() - t1
            inWork += ran
            if (clock.on) split.query += ran - (clock.inStore() - before)
          }
        })
      } finally {
        if (clock.on) split.transaction += now() - t0 - inWork
      }
    },
  }
  return {
    store,
    split,
    async measure(work) {
      const t0 = now()
      const before = clock.counted()
      clock.on = true
      try {
        return await work()
      } finally {
        clock.on = false
        split.input += now() - t0 - (clock.counted() - before)
      }
    },
  }
}

/** Microseconds per row of each part. */
export function perRow(split: TimeSplit, rows: number): Record<keyof TimeSplit, number> {
  const us = (ms: number) => Math.round((ms * 1000 * 100) / Math.max(1, rows)) / 100
  return Object.fromEntries(Object.entries(split).map(([part, ms]) => [part, us(ms)])) as Record<keyof TimeSplit, number>
}
