/** distinct (the fixed reference cases and the random ones are in identities.test.ts). */
import * as st from '../../src/index.js'
import { storeTest } from '../helpers/stores.js'
import { assertRows } from '../helpers/zsets.js'

storeTest('distinct: object rows, with rows structurally equal counted as one', async (t, open) => {
  type Visit = { user: string; page: string }
  const graph = st.compile([st.input<Visit>()], (v) => st.distinct(st.map(v, (x) => ({ page: x.page }))))
  const store = await open(graph)
  const [visits] = st.actions(store, graph)
  await assertRows(t, (await visits.insert({ user: 'a', page: '/' }, { page: '/', user: 'b' }, { user: 'a', page: '/x' }))[0], [
    [{ page: '/' }, 1],
    [{ page: '/x' }, 1],
  ])
  await assertRows(t, (await visits.remove({ user: 'b', page: '/' }))[0], [])
  await assertRows(t, (await visits.remove({ page: '/', user: 'a' }))[0], [[{ page: '/' }, -1]])
})

storeTest('distinct: negative weights never produce a row; coming back to positive does', async (t, open) => {
  const graph = st.compile([st.input<string>()], (a) => st.distinct(a))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.apply([['x', -2]]))[0], [])
  await assertRows(t, (await a.apply([['x', 2]]))[0], [])
  await assertRows(t, (await a.apply([['x', 5]]))[0], [['x', 1]])
  await assertRows(t, (await a.apply([['x', -6], ['y', 1]]))[0], [
    ['x', -1],
    ['y', 1],
  ])
})
