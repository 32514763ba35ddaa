/**
 * The demo on PostgreSQL: its tables get their own prefix ("demo") so that
 * they never mix with the user's stepping tables, and a previous demo run's
 * tables are dropped first so that every run starts from empty state.
 */
import pg from 'pg'
import { postgresStore } from '../index.js'
import type { MeterReadsQuery } from '../examples/meterReads.js'

/** Table-name prefix of the demo's tables (the store's own default is "st"). */
export const DEMO_PREFIX = 'demo'

/** Drop the tables of an earlier demo run: the metadata tables and every state table they list. */
async function dropDemoTables(pool: pg.Pool): Promise<void> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const meta = `${DEMO_PREFIX}_graph`
    const last = `${DEMO_PREFIX}_last_update`
    const found = await client.query<{ meta: string | null; last: string | null }>(
      'SELECT to_regclass($1)::text AS meta, to_regclass($2)::text AS last',
      [meta, last],
    )
    const tables: string[] = []
    if (found.rows[0]!.last !== null) {
      const listed = await client.query<{ table_name: string }>(`SELECT table_name FROM ${last}`)
      tables.push(...listed.rows.map((r) => r.table_name))
    }
    // Names come from our own table, but are still quoted as identifiers.
    for (const name of [...tables, last, meta]) await client.query(`DROP TABLE IF EXISTS ${client.escapeIdentifier(name)}`)
    await client.query('COMMIT')
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw e
  } finally {
    client.release()
  }
}

export async function openDemoPostgres(url: string, query: MeterReadsQuery) {
  const pool = new pg.Pool({ connectionString: url })
  // A dropped idle connection must not crash the demo; the next query reports it.
  pool.on('error', () => undefined)
  try {
    await dropDemoTables(pool)
    const store = await postgresStore(pool, query.graph, { createTables: true, prefix: DEMO_PREFIX })
    const shown = new URL(url)
    shown.password = shown.password ? '***' : ''
    return {
      store,
      where: `postgres (${shown.toString()}, tables ${DEMO_PREFIX}_*)`,
      // The store leaves a pool it was given open; the demo made this one, so it ends it.
      close: async () => {
        await store.close()
        await pool.end()
      },
    }
  } catch (e) {
    await pool.end().catch(() => undefined)
    throw e
  }
}
