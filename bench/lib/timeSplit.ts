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
import type { StateReader } from '../../src/runtime/view.js'
import type { Store, Transaction } from '../../src/stores/store.js'
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

export function timedStore(inner: Store): TimedStore {
  const split: TimeSplit = { storeReads: 0, storeWrites: 0, transaction: 0, query: 0, input: 0 }
  let on = false
  const inStore = () => split.storeReads + split.storeWrites
  /** Every part but `input`, which is what the measured call's time leaves over. */
  const counted = () => inStore() + split.transaction + split.query
  const timed =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>, part: 'storeReads' | 'storeWrites') =>
    async (...a: A): Promise<R> => {
      const t0 = now()
      try {
        return await f(...a)
      } finally {
        if (on) split[part] += now() - t0
      }
    }
  const timedReader = <T>(r: StateReader<T>): StateReader<T> => ({
    lookupEach: timed(r.lookupEach.bind(r), 'storeReads'),
    lookupRows: timed(r.lookupRows.bind(r), 'storeReads'),
    readAll: timed(r.readAll.bind(r), 'storeReads'),
    async *scan(index) {
      // Only the waits for the next row are the store's: the consumer's work between rows is the query's.
      const rows = r.scan(index)[Symbol.asyncIterator]()
      for (;;) {
        const t0 = now()
        const next = await rows.next()
        if (on) split.storeReads += now() - t0
        if (next.done) return
        yield next.value
      }
    },
  })
  const timedTx = (tx: Transaction): Transaction => ({
    reader: (delay) => timedReader(tx.reader(delay)),
    addDelta: timed(tx.addDelta.bind(tx), 'storeWrites'),
    replace: timed(tx.replace.bind(tx), 'storeWrites'),
  })
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
          const before = inStore()
          try {
            return await work(timedTx(tx))
          } finally {
            // A store may run the work again (after a conflict): every run counts.
            const ran = now() - t1
            inWork += ran
            if (on) split.query += ran - (inStore() - before)
          }
        })
      } finally {
        if (on) split.transaction += now() - t0 - inWork
      }
    },
  }
  return {
    store,
    split,
    async measure(work) {
      const t0 = now()
      const before = counted()
      on = true
      try {
        return await work()
      } finally {
        on = false
        split.input += now() - t0 - (counted() - before)
      }
    },
  }
}

/** Microseconds per row of each part. */
export function perRow(split: TimeSplit, rows: number): Record<keyof TimeSplit, number> {
  const us = (ms: number) => Math.round((ms * 1000 * 100) / Math.max(1, rows)) / 100
  return Object.fromEntries(Object.entries(split).map(([part, ms]) => [part, us(ms)])) as Record<keyof TimeSplit, number>
}
