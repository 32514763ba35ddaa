/** filter: reference test_filter (tests/run/test_further.py). */
import * as st from '../../src/index.js'
import { storeTest } from '../helpers/stores.js'
import { assertRows } from '../helpers/zsets.js'

storeTest('filter: keeps rows the predicate holds for (reference test_filter)', async (t, open) => {
  const graph = st.compile([st.input<number>()], (a) => st.filter(a, (i) => i > 3))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert(1))[0], [])
  await assertRows(t, (await a.insert(3, 4))[0], [[4, 1]])
  await assertRows(t, (await a.remove(4))[0], [[4, -1]])
  await assertRows(t, (await a.apply([[5, 3], [2, -2]]))[0], [[5, 3]])
})

storeTest('filter: on object rows, with the predicate seeing each row once per step', async (t, open) => {
  type Row = { name: string; age: number }
  const seen: string[] = []
  const graph = st.compile([st.input<Row>()], (a) =>
    st.filter(a, (r) => {
      seen.push(r.name)
      return r.age >= 18
    }),
  )
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert({ name: 'ann', age: 30 }, { name: 'bob', age: 12 }, { name: 'ann', age: 30 }))[0], [
    [{ name: 'ann', age: 30 }, 2],
  ])
  t.deepEqual(seen.sort(), ['ann', 'bob'])
})
