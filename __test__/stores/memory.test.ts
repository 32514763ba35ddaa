/** The memory store: closing it frees its state tables at once (native tables hold memory V8 only hears about). */
import test from 'ava'
import * as st from '../../src/index.js'
import { memoryStore } from '../../src/stores/memory.js'
import type { StateTable } from '../../src/zset/state.js'

test('closing a memory store empties its tables and refuses further use', async (t) => {
  const graph = st.compile([st.input<{ id: number }>()], (rows) => st.integrate(rows))
  const store = memoryStore(graph)
  const [rows] = st.actions(store, graph)
  await rows.insert({ id: 1 }, { id: 2 })
  const table = (store as unknown as { state(delay: unknown): StateTable<unknown> }).state(graph.def.delays[0]!)
  t.is(table.size, 2)
  await store.close()
  t.is(table.size, 0)
  await t.throwsAsync(rows.insert({ id: 3 }), { message: /memory store is closed/ })
})
