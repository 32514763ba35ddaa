/**
 * The PostgreSQL store vacuums its own tables as their rows turn over
 * (src/stores/vacuum.ts). PostgreSQL only: SQLite keeps no dead row versions
 * (a deleted row's space is reused within the file), so it has nothing to vacuum.
 */
import test from 'ava'
import type pg from 'pg'
import pgModule from 'pg'
import * as st from '../../src/index.js'
import { TableVacuum, VACUUM_MIN_ROWS } from '../../src/stores/vacuum.js'
import { dropPostgresDatabase, freshPostgresUrl } from '../helpers/postgres.js'

test.after.always('drop this process’s PostgreSQL database', () => dropPostgresDatabase())

type Reading = { id: number; meter: string }
const byMeter = st.index<Reading>((r) => r.meter)

function readingsGraph() {
  const cache = st.cache<Reading>()
  const graph = st.compile([st.input<Reading>()], (readings) => {
    cache.integrateIndexed(readings, [byMeter])
    return readings
  })
  return { graph, cache }
}

const readings = (from: number, n: number): Reading[] => Array.from({ length: n }, (_, i) => ({ id: from + i, meter: `m${(from + i) % 7}` }))

async function tableStats(url: string, table: string) {
  const client = new pgModule.Client({ connectionString: url })
  await client.connect()
  try {
    const r = await client.query<{ vacuum_count: string; analyze_count: string }>(
      `SELECT vacuum_count, analyze_count FROM pg_stat_user_tables WHERE relid = to_regclass($1)`,
      [table],
    )
    return { vacuums: Number(r.rows[0]!.vacuum_count), analyzes: Number(r.rows[0]!.analyze_count) }
  } finally {
    await client.end()
  }
}

/**
 * Write `inserted` readings in batches of 1,000, then delete the first `deleted` of them; returns the
 * cache's table. Autovacuum is kept off that table, so that a vacuum counted is the store's own and
 * none of the store's is skipped (SKIP_LOCKED) because autovacuum happened to be at it.
 */
async function churn(store: st.PostgresStore, graph: st.Graph<any, any>, inserted: number, deleted: number) {
  const table = store.layout.tables.find((t) => t.format !== 'log' && t.keys.length > 0)!.name
  await store.pool.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`)
  const [input] = st.actions(store, graph)
  for (let i = 0; i < inserted; i += 1000) await input.insert(...readings(i, Math.min(1000, inserted - i)))
  for (let i = 0; i < deleted; i += 1000) await input.remove(...readings(i, Math.min(1000, deleted - i)))
  return table
}

test('a table whose rows turn over is vacuumed and analyzed in the background; its rows read back whole', async (t) => {
  const url = await freshPostgresUrl()
  const { graph, cache } = readingsGraph()
  const store = await st.postgresStore(url, graph, { createTables: true })
  // 6,000 inserted and 5,000 deleted: 11,000 rows written to the cache's table, past VACUUM_MIN_ROWS.
  const table = await churn(store, graph, 6000, 5000)
  await store.close() // waits for the vacuum under way
  t.is(store.vacuums.get(table), 1)
  const stats = await tableStats(url, table)
  t.is(stats.vacuums, 1)
  t.is(stats.analyzes, 1)

  const later = await st.postgresStore(url, graph)
  try {
    const rows: Reading[] = []
    for await (const [, r, w] of cache.zset(later).iterByIndex(byMeter, ['m3'])) {
      t.is(w, 1)
      rows.push(r)
    }
    const expected = readings(5000, 1000).filter((r) => r.meter === 'm3')
    t.deepEqual(
      rows.map((r) => r.id).sort((a, b) => a - b),
      expected.map((r) => r.id),
    )
  } finally {
    await later.close()
  }
})

test('fewer rows written than VACUUM_MIN_ROWS: no vacuum', async (t) => {
  const url = await freshPostgresUrl()
  const { graph } = readingsGraph()
  const store = await st.postgresStore(url, graph, { createTables: true })
  const table = await churn(store, graph, 5000, 4000)
  await store.close()
  t.true(9000 < VACUUM_MIN_ROWS)
  t.is(store.vacuums.size, 0)
  t.is((await tableStats(url, table)).vacuums, 0)
})

test('with { vacuum: false } the store never vacuums', async (t) => {
  const url = await freshPostgresUrl()
  const { graph } = readingsGraph()
  const store = await st.postgresStore(url, graph, { createTables: true, vacuum: false })
  const table = await churn(store, graph, 6000, 6000)
  await store.close()
  t.is(store.vacuums.size, 0)
  t.is((await tableStats(url, table)).vacuums, 0)
})

/** A pool that answers the size query with these row counts and records the vacuums asked of it. */
function fakePool(rows: Record<string, number>) {
  const vacuumed: string[] = []
  const pool = {
    query: async (sql: string, values?: unknown[]) => {
      if (sql.startsWith('VACUUM')) {
        vacuumed.push(sql.split(' ').pop()!)
        return { rows: [] }
      }
      const names = values![0] as string[]
      return { rows: names.map((name) => ({ name, rows: rows[name] ?? 0 })) }
    },
  }
  return { pool: pool as unknown as pg.Pool, vacuumed }
}

test('a large table waits for a fifth of its rows to be written; a small one for VACUUM_MIN_ROWS', async (t) => {
  const { pool, vacuumed } = fakePool({ big: 200_000, small: 100 })
  const vacuum = new TableVacuum(pool, true)
  vacuum.note('big', 30_000)
  vacuum.note('small', VACUUM_MIN_ROWS - 1)
  vacuum.poke()
  await vacuum.settled()
  t.deepEqual(vacuumed, [], 'big: 30,000 of 200,000 is under a fifth; small: under the minimum')
  vacuum.note('small', 1)
  vacuum.note('big', 9_999) // 39,999
  vacuum.poke()
  await vacuum.settled()
  t.deepEqual(vacuumed, ['small'])
  vacuum.note('big', 1) // 40,000: a fifth
  vacuum.poke()
  await vacuum.settled()
  t.deepEqual(vacuumed, ['small', 'big'])
  t.deepEqual([...vacuum.vacuumed], [
    ['small', 1],
    ['big', 1],
  ])
  // Counts start again after a vacuum.
  vacuum.note('small', VACUUM_MIN_ROWS - 1)
  vacuum.poke()
  await vacuum.settled()
  t.is(vacuumed.length, 2)
})

test('a vacuum that fails is tried again at the next commit', async (t) => {
  let fail = true
  const vacuumed: string[] = []
  const pool = {
    query: async (sql: string, values?: unknown[]) => {
      if (sql.startsWith('VACUUM')) {
        if (fail) throw new Error('connection lost')
        vacuumed.push(sql.split(' ').pop()!)
        return { rows: [] }
      }
      return { rows: (values![0] as string[]).map((name) => ({ name, rows: 0 })) }
    },
  } as unknown as pg.Pool
  const vacuum = new TableVacuum(pool, true)
  vacuum.note('t', VACUUM_MIN_ROWS)
  vacuum.poke()
  await vacuum.settled()
  t.deepEqual(vacuumed, [])
  fail = false
  vacuum.poke()
  await vacuum.settled()
  t.deepEqual(vacuumed, ['t'])
})
