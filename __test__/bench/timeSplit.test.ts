/** The bench's split of our engine's time (bench/lib/timeSplit.ts): each part lands where it was spent. */
import * as st from '../../src/index.js'
import type { Store } from '../../src/stores/store.js'
import { timedStore } from '../../bench/lib/timeSplit.js'
import { storeTest } from '../helpers/stores.js'
import { assertRows } from '../helpers/zsets.js'

/** Busy for `ms` (a sleep would let the clock run while nothing is spent). */
function spin(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until);
}

/** `inner` with every state write slowed by `ms`: time the wrapper must count as the store's. */
function slowWrites(inner: Store, ms: number): Store {
  return {
    kind: inner.kind,
    graph: inner.graph,
    cacheReader: (d) => inner.cacheReader(d),
    close: () => inner.close(),
    transaction: (time, work) =>
      inner.transaction(time, (tx) =>
        work({
          reader: (d) => tx.reader(d),
          addDelta: async (d, z) => {
            spin(ms)
            return tx.addDelta(d, z)
          },
          replace: async (d, z) => {
            spin(ms)
            return tx.replace(d, z)
          },
        }),
      ),
  }
}

storeTest('bench time split: operators count as the query, state writes as the store, and the parts add up', async (t, open) => {
  const graph = st.compile([st.input<number>()], (a) =>
    st.integrate(
      st.map(a, (x) => {
        spin(40)
        return x * 2
      }),
    ),
  )
  // Far apart, so that a loaded machine (other work between the two) cannot blur which is which.
  const timer = timedStore(slowWrites(await open(graph), 200))
  const [a] = st.actions(timer.store, graph)
  await a.insert(1) // not measured
  t.is(timer.split.query + timer.split.storeWrites, 0)
  const t0 = performance.now()
  const [out] = await timer.measure(() => a.insert(2))
  const total = performance.now() - t0
  // The wrapped store answers as the store does: the integral of the doubled rows.
  await assertRows(t, out, [
    [2, 1],
    [4, 1],
  ])
  const { query, storeWrites, storeReads, transaction, input } = timer.split
  t.true(query >= 40 && query < 140, `query ${query} ms: the map's 40 ms, not the write's 200`)
  t.true(storeWrites >= 200, `store writes ${storeWrites} ms`)
  t.true(Math.abs(query + storeWrites + storeReads + transaction + input - total) < 20, `parts add up to ${total} ms (a part counted twice would be 40 ms off or more)`)
})
