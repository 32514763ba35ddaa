/**
 * A failed iteration leaves no trace, on every store: a user function that
 * throws, or returns a bad row, after some of the iteration's writes are made
 * (perGroup writes its state mid-iteration) leaves every delay's state and the
 * cache exactly as they were, and the next iteration succeeds. On the SQL
 * stores a failed iteration with a time also passes its time on, so the
 * writer after it does not wait in vain.
 */
import * as st from '../../src/index.js'
import type { Store } from '../../src/stores/store.js'
import { storeTest } from '../helpers/stores.js'
import { allState } from './fixtures/meterReads.js'

type Spend = { user: string; amount: number }
type Total = { user: string; total: number }

const POISON = 666

function spendingGraph() {
  const totals = st.cache<Total>()
  const graph = st.compile([st.input<Spend>()], (spends) => {
    const sums = st.groupReduceFlatten(spends, { by: st.index<Spend>((s) => s.user), zero: () => 0, pick: (s) => s.amount })
    const rows = st.map(sums, (p): Total => {
      if (p.left === POISON) throw new Error('the user function failed')
      // NaN is not a value: a bad row from a user function.
      return { user: p.right, total: p.left === -POISON ? NaN : p.left }
    })
    totals.integrateIndexed(rows, [st.index<Total>((r) => r.user)])
    return rows
  })
  return { graph, totals }
}

async function snapshot(store: Store, totals: st.Cache<Total>) {
  const cache: unknown[] = []
  for await (const x of totals.zset(store).iterByIndex(st.index<Total>((r) => r.user))) cache.push(x)
  return { state: await allState(store), cache }
}

storeTest('failure: a throwing user function or a bad row mid-iteration leaves the store unchanged, and the next iteration succeeds', async (t, open) => {
  const { graph, totals } = spendingGraph()
  const store = await open(graph)
  const [spends] = st.actions(store, graph)
  await spends.insert({ user: 'ann', amount: 5 }, { user: 'bob', amount: 7 })
  await spends.insert({ user: 'ann', amount: 1 })
  const before = await snapshot(store, totals)

  // ann's total becomes POISON: perGroup has written its state when map throws.
  await t.throwsAsync(spends.insert({ user: 'ann', amount: POISON - 6 }, { user: 'cy', amount: 3 }), { message: 'the user function failed' })
  t.deepEqual(await snapshot(store, totals), before)

  await t.throwsAsync(spends.insert({ user: 'bob', amount: -POISON - 7 }), { instanceOf: st.InvalidValueError, message: /NaN/ })
  t.deepEqual(await snapshot(store, totals), before)

  const [out] = await spends.insert({ user: 'ann', amount: 4 }, { user: 'cy', amount: 3 })
  t.deepEqual(
    [...out.iter()].sort(([a], [b]) => a.user.localeCompare(b.user) || a.total - b.total),
    [
      [{ user: 'ann', total: 6 }, -1],
      [{ user: 'ann', total: 10 }, 1],
      [{ user: 'cy', total: 3 }, 1],
    ],
  )
  const after = await snapshot(store, totals)
  t.deepEqual(after.cache, [
    ['ann', { user: 'ann', total: 10 }, 1],
    ['bob', { user: 'bob', total: 7 }, 1],
    ['cy', { user: 'cy', total: 3 }, 1],
  ])
  await store.close()
})

storeTest('failure: a failed iteration with a time passes its time on to the next writer', async (t, open) => {
  const { graph, totals } = spendingGraph()
  const store = await open(graph)
  const [spends] = st.actions(store, graph)
  const at = (inputTime: number) => ({ time: st.time({ inputTime, frontier: inputTime - 1 }) })
  await spends.apply([[{ user: 'ann', amount: 1 }, 1]], at(1))
  const before = await snapshot(store, totals)
  await t.throwsAsync(spends.apply([[{ user: 'ann', amount: POISON - 1 }, 1]], at(2)), { message: 'the user function failed' })
  t.deepEqual(await snapshot(store, totals), before)
  if (store.kind !== 'memory') t.is(await (store as st.SqliteStore | st.PostgresStore).writtenUpTo(), 2)
  // Time 3 waits for time 2, which failed: it must not wait in vain.
  await spends.apply([[{ user: 'bob', amount: 2 }, 1]], at(3))
  t.deepEqual((await snapshot(store, totals)).cache, [
    ['ann', { user: 'ann', total: 1 }, 1],
    ['bob', { user: 'bob', total: 2 }, 1],
  ])
  await store.close()
})
