/**
 * PostgreSQL-only behaviour: a connection dropped mid-iteration (the backend
 * terminated by `pg_terminate_backend` from another connection while the
 * iteration waits on a lock, after some of its writes) leaves the store
 * unchanged and the next iteration works on a fresh connection; writers
 * without a time, in separate stores (pools) on one schema, take turns and
 * end where a serial run ends; an iteration's writes go in one statement, and
 * writes too large for one statement in several.
 */
import { randomBytes } from 'node:crypto'
import test from 'ava'
import pg from 'pg'
import * as st from '../../src/index.js'
import { WriteQueue } from '../../src/stores/postgresWrites.js'
import type { EncodedRow } from '../../src/stores/sql.js'
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

/** A pool whose connections record each statement's text (prepared or simple). */
function recordingPool(url: string): { pool: pg.Pool; statements: string[] } {
  const statements: string[] = []
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...a: unknown[]) => unknown
    ;(client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
      const config = a[0] as string | { text: string }
      statements.push(typeof config === 'string' ? config : config.text)
      return query(...a)
    }
  })
  return { pool, statements }
}

test('postgres: an iteration sends its writes, and the mark of its input time, in one statement before COMMIT', async (t) => {
  const { pool, statements } = recordingPool(await freshPostgresUrl())
  const { graph, totals } = spendingGraph()
  const store = await st.postgresStore(pool, graph, { createTables: true })
  try {
    const [spends] = st.actions(store, graph)
    const serial = st.memoryStore(graph)
    const [serialSpends] = st.actions(serial, graph)
    const batches = [
      [{ user: 'ann', amount: 5 }, { user: 'bob', amount: 7 }],
      [{ user: 'ann', amount: 1 }, { user: 'cy', amount: 2 }],
    ]
    for (const [i, batch] of batches.entries()) {
      statements.length = 0
      await spends.apply(batch.map((s) => [s, 1] as const), { time: st.time({ inputTime: i + 1, frontier: i }) })
      await serialSpends.insert(...batch)
      // The group state and the cache both change; each used to be a statement of its own, and so was the mark.
      const writes = statements.filter((s) => /\bINSERT INTO\b/.test(s) && !s.includes(`INSERT INTO ${store.layout.namesTable} `))
      t.is(writes.length, 1, statements.join('\n'))
      t.regex(writes[0]!, /UPDATE \S+ SET t = GREATEST/)
      t.is(statements[statements.length - 1], 'COMMIT')
      t.is(statements[statements.length - 2], writes[0])
    }
    t.deepEqual(await allState(store), await allState(serial))
    t.deepEqual(await cacheRows(store, totals), [
      [{ user: 'ann', total: 6 }, 1],
      [{ user: 'bob', total: 7 }, 1],
      [{ user: 'cy', total: 2 }, 1],
    ])
    const marks = await pool.query(`SELECT DISTINCT t FROM ${store.layout.lastUpdateTable}`)
    t.deepEqual(marks.rows.map((r) => Number(r.t)), [2])
  } finally {
    await store.close()
    await pool.end()
  }
})

test('postgres: writes larger than one statement take several, and end where the memory store ends', async (t) => {
  const { graph, totals } = spendingGraph()
  const store = await st.postgresStore(await freshPostgresUrl(), graph, { createTables: true })
  const serial = st.memoryStore(graph)
  try {
    // 12,000 groups: the group state's and the cache's writes are 12,000 and then 24,000 rows (old out, new in).
    const first = Array.from({ length: 12_000 }, (_, i) => ({ user: `u${i}`, amount: i % 7 }))
    const second = Array.from({ length: 12_000 }, (_, i) => ({ user: `u${i}`, amount: 1 }))
    for (const s of [store, serial]) {
      const [spends] = st.actions(s, graph)
      await spends.insert(...first)
      await spends.insert(...second)
    }
    t.deepEqual(await allState(store), await allState(serial))
    const rows = await cacheRows(store, totals)
    t.is(rows.length, 12_000)
    t.deepEqual(rows.find((r) => (r as [Total])[0].user === 'u13'), [{ user: 'u13', total: (13 % 7) + 1 }, 1])
  } finally {
    await store.close()
    await serial.close()
  }
})

test('postgres: a queued retraction that meets a row another writer inserted meanwhile deletes it when it reaches 0', async (t) => {
  const url = await freshPostgresUrl()
  const byValue = st.index.identity<string>()
  const graph = st.compile([st.input<string>()], (a) => [st.integrate(a), st.integrateIndexed(a, [byValue])] as const)
  const store = await st.postgresStore(url, graph, { createTables: true })
  await store.close()
  const [a, b] = [new pg.Client({ connectionString: url }), new pg.Client({ connectionString: url })]
  await a.connect()
  await b.connect()
  try {
    for (const table of store.layout.tables) {
      const row = (weight: number): EncodedRow => ({ text: 'x', weight, keys: table.keys.map(() => Buffer.from('k')), id: Buffer.alloc(16, 7) })
      const [queueA, queueB] = [new WriteQueue(a), new WriteQueue(b)]
      await b.query('BEGIN')
      await queueB.upsert(table, [row(1)])
      await queueB.flush()
      // A's statement takes its snapshot before B commits: its DELETE does not see the row, its INSERT waits for B's.
      await a.query('BEGIN')
      await queueA.upsert(table, [row(-1)])
      const flushed = queueA.flush()
      await new Promise((r) => setTimeout(r, 200))
      await b.query('COMMIT')
      await flushed
      await a.query('COMMIT')
      const left = await a.query(`SELECT weight FROM ${table.name}`)
      t.deepEqual(left.rows, [], table.name)
    }
  } finally {
    await a.end()
    await b.end()
  }
})
