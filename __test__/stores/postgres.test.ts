/**
 * PostgreSQL-only behaviour: a connection dropped mid-iteration (the backend
 * terminated by `pg_terminate_backend` from another connection while the
 * iteration waits on a lock, after some of its writes) leaves the store
 * unchanged and the next iteration works on a fresh connection; writers
 * without a time, in separate stores (pools) on one schema, take turns and
 * end where a serial run ends.
 */
import { randomBytes } from 'node:crypto'
import test from 'ava'
import pg from 'pg'
import * as st from '../../src/index.js'
import { freshPostgresUrl, withClient, dropPostgresDatabase } from '../helpers/postgres.js'
import { allState } from './fixtures/meterReads.js'

// Only matters for a server given by STEPPING_PG_URL: an embedded one is thrown away whole.
test.after.always('drop this process’s PostgreSQL database', () => dropPostgresDatabase())

type Spend = { user: string; amount: number }
type Total = { user: string; total: number }
const byUser = st.index<Total>((r) => r.user)

function spendingGraph() {
  const totals = st.cache<Total>()
  const graph = st.compile([st.input<Spend>()], (spends) => {
    const sums = st.groupReduceFlatten(spends, { by: st.index<Spend>((s) => s.user), zero: () => 0, pick: (s) => s.amount })
    totals.integrateIndexed(st.map(sums, (p): Total => ({ user: p.right, total: p.left })), [byUser])
    return sums
  })
  return { graph, totals }
}

async function cacheRows(store: st.PostgresStore, totals: st.Cache<Total>) {
  const out: unknown[] = []
  for await (const [, row, w] of totals.zset(store).iterByIndex(byUser)) out.push([row, w])
  return out
}

// Serial, so it runs before the other tests of this file: pg warns about overlapping queries once per process.
test.serial('postgres: an iteration gives the connection one query at a time (pg 8 deprecates overlapping ones, pg 9 refuses them)', async (t) => {
  const warnings: string[] = []
  const onWarning = (w: Error) => warnings.push(w.message)
  process.on('warning', onWarning)
  try {
    // Outputs read from state (integrals, a delayed integral): each is read whole at the end of the iteration.
    const idx = st.index.identity<number>()
    const graph = st.compile([st.input<number>()], (a) => [st.integrate(a), st.integrateIndexed(a, [idx]), st.delay(st.integrate(a))] as const)
    const store = await st.postgresStore(await freshPostgresUrl(), graph, { createTables: true })
    try {
      const [a] = st.actions(store, graph)
      await a.insert(1)
      const [sum, indexed, before] = await a.insert(2)
      const rows = (z: st.ZSet<number>) => [...z.iter()].sort()
      t.deepEqual(rows(sum), [[1, 1], [2, 1]])
      t.deepEqual(rows(indexed), [[1, 1], [2, 1]])
      t.deepEqual(rows(before), [[1, 1]])
    } finally {
      await store.close()
    }
    await new Promise((resolve) => setImmediate(resolve)) // warnings are emitted on the next tick
    t.deepEqual(warnings.filter((m) => /already executing a query/.test(m)), [])
  } finally {
    process.off('warning', onWarning)
  }
})

test('postgres: a connection dropped mid-iteration leaves the store unchanged; the next iteration works', async (t) => {
  const application = `stepping_drop_${randomBytes(4).toString('hex')}`
  const url = new URL(await freshPostgresUrl())
  url.searchParams.set('application_name', application)
  const { graph, totals } = spendingGraph()
  const store = await st.postgresStore(url.toString(), graph, { createTables: true })
  const [spends] = st.actions(store, graph)
  await spends.insert({ user: 'ann', amount: 5 }, { user: 'bob', amount: 7 })
  const before = { state: await allState(store), cache: await cacheRows(store, totals) }

  const cacheDelay = graph.def.delays.find((d) => d.path.startsWith('cache/'))!
  const cacheTable = store.layout.byDelay.get(cacheDelay)!.name
  const locker = new pg.Client({ connectionString: url.toString().replace(application, `${application}_locker`) })
  locker.on('error', () => undefined)
  await locker.connect()
  try {
    // The iteration writes the per-group state (mid-evaluation) and the joins, then blocks on the cache table.
    await locker.query('BEGIN')
    await locker.query(`LOCK TABLE ${cacheTable} IN EXCLUSIVE MODE`)
    const running = spends.insert({ user: 'ann', amount: 1 }, { user: 'cy', amount: 2 })
    running.catch(() => undefined)
    let terminated = false
    for (let i = 0; i < 400 && !terminated; i++) {
      // Waiting for the cache table's lock (pg_stat_activity's query text may still show the previous statement).
      const r = await locker.query<{ pid: number }>(
        `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid ` +
          `WHERE NOT l.granted AND l.relation = $1::regclass AND a.application_name = $2`,
        [cacheTable, application],
      )
      for (const row of r.rows) {
        await withClient(url.toString(), (c) => c.query('SELECT pg_terminate_backend($1)', [row.pid]))
        terminated = true
      }
      if (!terminated) await new Promise((r) => setTimeout(r, 25))
    }
    t.true(terminated, 'the iteration was seen waiting for the cache table')
    await locker.query('COMMIT')
    await t.throwsAsync(running)
  } finally {
    await locker.end()
  }

  t.deepEqual({ state: await allState(store), cache: await cacheRows(store, totals) }, before)
  await spends.insert({ user: 'ann', amount: 1 }, { user: 'cy', amount: 2 })
  t.deepEqual(await cacheRows(store, totals), [
    [{ user: 'ann', total: 6 }, 1],
    [{ user: 'bob', total: 7 }, 1],
    [{ user: 'cy', total: 2 }, 1],
  ])
  await store.close()
})

test('postgres: writers without a time in separate stores take turns (advisory lock) and end where a serial run ends', async (t) => {
  const url = await freshPostgresUrl()
  const { graph, totals } = spendingGraph()
  const stores = [await st.postgresStore(url, graph, { createTables: true }), await st.postgresStore(url, graph), await st.postgresStore(url, graph)]
  const users = ['ann', 'bob', 'cy']
  // Every writer changes the same groups, so interleaved reads and writes would lose or double updates.
  const batches = stores.map((_, w) => Array.from({ length: 12 }, (_, i) => users.map((user, u) => ({ user, amount: 1 + ((w * 31 + i * 7 + u) % 5) }))))
  await Promise.all(
    stores.map(async (store, w) => {
      const [spends] = st.actions(store, graph)
      for (const batch of batches[w]!) await spends.insert(...batch)
    }),
  )
  const serial = st.memoryStore(graph)
  const [spends] = st.actions(serial, graph)
  for (const b of batches.flat()) await spends.insert(...b)
  t.deepEqual(await allState(stores[0]!), await allState(serial))
  const expected: unknown[] = []
  for (const [, row, w] of totals.zset(serial).iterByIndex(byUser) as Iterable<[string, Total, number]>) expected.push([row, w])
  t.deepEqual(await cacheRows(stores[0]!, totals), expected)
  for (const s of stores) await s.close()
})
