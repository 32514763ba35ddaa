/**
 * Every behaviour test runs against every store. `storeTest` registers one ava
 * test per store kind; the body gets a `open(graph)` that makes a fresh store
 * of that kind for the graph: memory, SQLite (a new file in a temp directory)
 * and PostgreSQL (a new schema; see postgres.ts for where the server comes from).
 */
import test, { type ExecutionContext } from 'ava'
import type { Graph } from '../../src/graph/compile.js'
import type { Store } from '../../src/stores/store.js'
import { memoryStore } from '../../src/stores/memory.js'
import { sqliteStore } from '../../src/stores/sqlite.js'
import { postgresStore } from '../../src/stores/postgres.js'
import { dropPostgresDatabase, freshPostgresUrl } from './postgres.js'
import { freshSqlitePath } from './sqlite.js'

export type OpenStore = (graph: Graph<any, any>) => Promise<Store>

export interface StoreKind {
  readonly name: 'memory' | 'sqlite' | 'postgres'
  /** A fresh, empty store for `graph` (tables created). */
  open: OpenStore
}

export const storeKinds: StoreKind[] = [
  { name: 'memory', open: async (g) => memoryStore(g) },
  { name: 'sqlite', open: (g) => sqliteStore(freshSqlitePath(), g, { createTables: true }) },
  { name: 'postgres', open: async (g) => postgresStore(await freshPostgresUrl(), g, { createTables: true }) },
]

// Only matters for a server given by STEPPING_PG_URL: an embedded one is thrown away whole.
test.after.always('drop this process’s PostgreSQL database', () => dropPostgresDatabase())

export function storeTest(title: string, body: (t: ExecutionContext, open: OpenStore) => Promise<void>): void {
  for (const kind of storeKinds) {
    test(`${title} [${kind.name}]`, async (t) => {
      const opened: Store[] = []
      try {
        await body(t, async (g) => {
          const s = await kind.open(g)
          opened.push(s)
          return s
        })
      } finally {
        for (const s of opened) await s.close()
      }
    })
  }
}
