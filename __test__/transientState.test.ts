/**
 * Delays of a fixed point's own output hold ∅ between runs (src/graph/transientState.ts):
 * no store keeps them; the runtime hands each inner step the previous one's output.
 */
import test from 'ava'
import * as st from '../src/index.js'
import { storeTest } from './helpers/stores.js'
import { assertRows } from './helpers/zsets.js'

type Edge = st.Pair<number, number>

function closureGraph() {
  return st.compile([st.input<Edge>()], (edges) => st.add(st.transitiveClosure(edges), st.delay(edges)))
}

test('the closure\'s delay of its own output is transient; integrals and delays outside fixed points are not', (t) => {
  const { def } = closureGraph()
  t.deepEqual(
    def.delays.filter((d) => d.params.transient).map((d) => d.path),
    ['transitive_closure/delay'],
  )
  t.false(def.storedDelays.some((d) => d.params.transient))
  t.true(def.storedDelays.some((d) => d.path === 'delay'), 'a delay at the top level keeps its state')
  t.is(def.storedDelays.length, def.delays.length - 1)
})

storeTest('a transient delay keeps no state: a chain grown, cut and regrown over steps', async (t, open) => {
  const graph = closureGraph()
  const store = await open(graph)
  if (store.kind !== 'memory') {
    const tables = (store as st.SqliteStore).layout.tables
    t.false(tables.some((x) => x.delays.some((d) => d.params.transient)))
  }
  const [edges] = st.actions(store, graph)
  const e = (a: number, b: number) => st.pair(a, b)
  // Each output: the closure's change plus the previous step's edges (the top-level delay).
  await assertRows(t, (await edges.insert(e(1, 2), e(2, 3)))[0], [[e(1, 2), 1], [e(2, 3), 1], [e(1, 3), 1]])
  // Three inner steps deep: the run must see each step's new paths, not the last run's.
  await assertRows(t, (await edges.insert(e(3, 4)))[0], [[e(3, 4), 1], [e(2, 4), 1], [e(1, 4), 1], [e(1, 2), 1], [e(2, 3), 1]])
  await assertRows(t, (await edges.remove(e(2, 3)))[0], [[e(2, 3), -1], [e(1, 3), -1], [e(2, 4), -1], [e(1, 4), -1], [e(3, 4), 1]])
  // The closure gives (2, 3) back as the delay takes it away: they cancel.
  await assertRows(t, (await edges.insert(e(2, 3)))[0], [[e(1, 3), 1], [e(2, 4), 1], [e(1, 4), 1]])
})
