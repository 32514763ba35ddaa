/**
 * Opening our stores for one measurement: memory, SQLite (a file in WAL mode)
 * and PostgreSQL (a fresh database). The SQL stores are looked up at run time
 * so the bench runs (and says "unavailable") before they exist.
 */
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import * as st from '../../src/index.js'
import type { Store } from '../../src/stores/store.js'
import { databaseTableBytes, freshDatabase } from './pg.js'
import type { StoreKind } from './types.js'

export interface OpenedStore {
  store: Store
  /** Bytes the store's state takes on disk (undefined in memory). */
  bytesOnDisk(): Promise<number | undefined>
  info: Record<string, unknown>
  close(): Promise<void>
}

export class Unavailable extends Error {}

/** A module that may not exist yet; the specifier is a variable so the type checker leaves it alone. */
async function optionalImport(spec: string): Promise<Record<string, any> | undefined> {
  try {
    return (await import(spec)) as Record<string, any>
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return undefined
    throw e
  }
}

async function storeFactory(name: 'sqliteStore' | 'postgresStore', module: string): Promise<(...args: any[]) => Promise<Store>> {
  const fromIndex = (st as Record<string, unknown>)[name]
  if (typeof fromIndex === 'function') return fromIndex as (...args: any[]) => Promise<Store>
  const m = await optionalImport(module)
  if (m && typeof m[name] === 'function') return m[name]
  throw new Unavailable(`st.${name} is not there yet (${module})`)
}

/** SQLite file size including the WAL, after a checkpoint. */
export function sqliteBytes(db: Database.Database, file: string): number {
  db.pragma('wal_checkpoint(TRUNCATE)')
  let bytes = 0
  for (const f of [file, file + '-wal']) if (fs.existsSync(f)) bytes += fs.statSync(f).size
  return bytes
}

export async function openSteppingStore(
  kind: StoreKind,
  graph: st.Graph<any, any>,
  ctx: { dir: string; pgUrl?: string; id: string },
): Promise<OpenedStore> {
  if (kind === 'memory') {
    const store = st.memoryStore(graph)
    return { store, bytesOnDisk: async () => undefined, info: {}, close: () => store.close() }
  }
  if (kind === 'sqlite') {
    const factory = await storeFactory('sqliteStore', '../../src/stores/sqlite.js')
    const file = path.join(ctx.dir, `${ctx.id}.sqlite`)
    // A path, as a user would pass it: the store opens the file and sets its pragmas (WAL, synchronous).
    const store = await factory(file, graph, { createTables: true })
    let closed = false
    return {
      store,
      info: {},
      bytesOnDisk: async () => {
        // Measured on a second connection after the store has closed: checkpoint, then main file + WAL.
        await store.close()
        closed = true
        const db = new Database(file)
        try {
          return sqliteBytes(db, file)
        } finally {
          db.close()
        }
      },
      close: async () => {
        if (!closed) await store.close()
      },
    }
  }
  if (!ctx.pgUrl) throw new Unavailable('no PostgreSQL server')
  const factory = await storeFactory('postgresStore', '../../src/stores/postgres.js')
  const fresh = await freshDatabase(ctx.pgUrl, `bench_${ctx.id}`)
  const pool = new pg.Pool({ connectionString: fresh.url, max: 4 })
  pool.on('error', () => undefined) // an idle client dropped with the database must not crash the process
  const store = await factory(pool, graph, { createTables: true })
  return {
    store,
    info: {},
    bytesOnDisk: async () => databaseTableBytes(pool),
    close: async () => {
      await store.close()
      await pool.end().catch(() => {})
      await fresh.drop()
    },
  }
}
