/**
 * The recompute baseline: the same rows in ordinary indexed tables, and the
 * answer to the cache's single-key question computed by plain SQL each time it
 * is asked (JOIN ... GROUP BY for the meter reads; a recursive CTE plus the same
 * resolve function for the type checker). Reports the plain inserts' rows/s, the
 * per-question latency (to set against our cache read) and one full GROUP BY.
 */
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { IngestMeter, peakRssMB } from '../measure.js'
import { freshDatabase, databaseTableBytes } from '../pg.js'
import { latency, now, round } from '../stats.js'
import { sqliteBytes } from '../stores.js'
import type { RunConfig, RunResult } from '../types.js'
import { batched, workload } from '../workloads.js'
import type { HalfHourlyMeterRead, Meter, User } from '../scenarios/meterReads.js'
import { resolve, type Class } from '../scenarios/typechecker.js'

/** The few things the baseline needs from a SQL connection. */
interface Sql {
  exec(sql: string): Promise<void>
  /** Insert rows (arrays of column values) in one transaction. */
  insert(table: string, cols: string[], rows: unknown[][]): Promise<void>
  all(sql: string, params: unknown[]): Promise<Record<string, unknown>[]>
  bytes(): Promise<number>
  close(): Promise<void>
  /** Placeholder for parameter i (1-based). */
  p(i: number): string
  dialect: 'sqlite' | 'postgres'
}

function sqlite(file: string): Sql {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL') // as our SQLite store sets it
  const stmts = new Map<string, Database.Statement>()
  const prep = (sql: string) => {
    let s = stmts.get(sql)
    if (!s) stmts.set(sql, (s = db.prepare(sql)))
    return s
  }
  return {
    dialect: 'sqlite',
    p: () => '?',
    exec: async (sql) => void db.exec(sql),
    insert: async (table, cols, rows) => {
      const s = prep(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`)
      db.transaction(() => {
        for (const r of rows) s.run(...r)
      })()
    },
    all: async (sql, params) => prep(sql).all(...params) as Record<string, unknown>[],
    bytes: async () => sqliteBytes(db, file),
    close: async () => void db.close(),
  }
}

async function postgres(adminUrl: string, id: string): Promise<Sql> {
  const fresh = await freshDatabase(adminUrl, `bench_${id}`)
  const client = new pg.Client({ connectionString: fresh.url })
  await client.connect()
  return {
    dialect: 'postgres',
    p: (i) => `$${i}`,
    exec: async (sql) => void (await client.query(sql)),
    insert: async (table, cols, rows) => {
      if (!rows.length) return
      const params: unknown[] = []
      const tuples = rows.map((r) => `(${r.map((v) => (params.push(v), `$${params.length}`)).join(', ')})`)
      await client.query(`INSERT INTO ${table} (${cols.join(', ')}) VALUES ${tuples.join(', ')}`, params)
    },
    all: async (sql, params) => (await client.query({ text: sql, values: params })).rows,
    bytes: () => databaseTableBytes(client),
    close: async () => {
      await client.end()
      await fresh.drop()
    },
  }
}

const nextDay = (d: string): string => new Date(Date.parse(d + 'T00:00:00Z') + 86_400_000).toISOString().slice(0, 10)

export async function runRecompute(c: RunConfig): Promise<Partial<RunResult>> {
  if (c.store === 'memory') return { status: 'skipped', note: 'the recompute baseline is plain SQL' }
  const w = workload(c.scenario, c.rows, c.seed)
  const db = c.store === 'sqlite' ? sqlite(path.join(c.dir, `${c.id}.sqlite`)) : await postgres(c.pgUrl!, c.id)
  const pg = db.dialect === 'postgres'
  try {
    const meter = new IngestMeter(c.rows, c.timeLimitS)
    let partial = false
    let question: (key: unknown) => Promise<number>
    let full: () => Promise<number>
    if (c.scenario === 'complex') {
      await db.exec(`CREATE TABLE class (identifier TEXT PRIMARY KEY, attrs TEXT NOT NULL);
        CREATE TABLE attr (identifier TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL);
        CREATE INDEX ix_attr_identifier ON attr (identifier);`)
      for (const b of batched(w.rows() as Generator<Class>, c.batch)) {
        await meter.time(b.length, async () => {
          await db.insert('class', ['identifier', 'attrs'], b.map((x) => [x.identifier, JSON.stringify(x.attrs)]))
          await db.insert('attr', ['identifier', 'key', 'value'], b.flatMap((x) => x.attrs.map(([k, v]) => [x.identifier, k, v])))
        })
        if (meter.overLimit) {
          partial = true
          break
        }
      }
      // Everything reachable from one class, then the same resolve as the query's.
      const reach = `WITH RECURSIVE reach(id) AS (SELECT ${db.p(1)} UNION SELECT a.value FROM attr a JOIN reach r ON a.identifier = r.id)
        SELECT c.identifier, c.attrs FROM class c JOIN reach r ON c.identifier = r.id`
      question = async (key) => {
        const rows = await db.all(reach, [key])
        const classes = rows.map((r) => ({ identifier: String(r.identifier), attrs: JSON.parse(String(r.attrs)) }) as Class)
        const self = classes.find((x) => x.identifier === key)
        if (!self) return 0
        resolve(self, classes.filter((x) => x !== self))
        return 1
      }
      full = async () => (await db.all(`SELECT count(*) AS n FROM (WITH RECURSIVE closure(src, dst) AS (SELECT identifier, value FROM attr UNION SELECT c.src, a.value FROM closure c JOIN attr a ON a.identifier = c.dst) SELECT * FROM closure) x`, [])).length
    } else {
      const ts = pg ? 'TIMESTAMP' : 'TEXT'
      await db.exec(`CREATE TABLE user_ (user_id INT PRIMARY KEY, name TEXT);
        CREATE TABLE meter (meter_id TEXT PRIMARY KEY, user_id INT);
        CREATE INDEX ix_meter_user_id ON meter (user_id);
        CREATE TABLE read (meter_id TEXT, timestamp ${ts}, value FLOAT);
        CREATE INDEX ix_read_meter_id ON read (meter_id);
        CREATE INDEX ix_read_timestamp ON read (timestamp);`)
      const [users, meters] = [w.setup[0]![1] as User[], w.setup[1]![1] as Meter[]]
      for (const b of batched(users, 1000)) await db.insert('user_', ['user_id', 'name'], b.map((u) => [u.userId, u.name]))
      for (const b of batched(meters, 1000)) await db.insert('meter', ['meter_id', 'user_id'], b.map((m) => [m.meterId, m.userId]))
      for (const b of batched(w.rows() as Generator<HalfHourlyMeterRead>, c.batch)) {
        await meter.time(b.length, () =>
          db.insert('read', ['meter_id', 'timestamp', 'value'], b.map((r) => [r.meterId, pg ? r.timestamp : r.timestamp.toISOString(), r.value])),
        )
        if (meter.overLimit) {
          partial = true
          break
        }
      }
      const day = pg ? `r.timestamp::date` : `substr(r.timestamp, 1, 10)`
      const select = `SELECT u.user_id, m.meter_id, ${day} AS date, sum(r.value) AS value
        FROM user_ u JOIN meter m ON m.user_id = u.user_id JOIN read r ON r.meter_id = m.meter_id`
      const group = `GROUP BY u.user_id, m.meter_id, ${day}`
      const oneDay = `${select} WHERE r.timestamp >= ${db.p(1)} AND r.timestamp < ${db.p(2)} ${group}`
      question = async (key) => {
        const d = String(key)
        const params = pg ? [d, nextDay(d)] : [d, nextDay(d)]
        return (await db.all(oneDay, params)).length
      }
      full = async () => (await db.all(`${select} ${group}`, [])).length
    }
    const keys = w.lookupKeys(c.lookups, meter.ingested)
    for (const k of keys.slice(0, 5)) await question(k) // warm up
    const ms: number[] = []
    let rows = 0
    for (const k of keys) {
      const t0 = now()
      rows += await question(k)
      ms.push(now() - t0)
    }
    const t0 = now()
    await full()
    const fullQueryMs = round(now() - t0, 1)
    const bytes = await db.bytes()
    return {
      status: partial ? 'partial' : 'ok',
      note: partial ? `stopped at the ${c.timeLimitS}s limit` : undefined,
      ...meter.result(),
      recompute: { ...latency(ms), rowsPerRead: round(rows / Math.max(1, keys.length), 1), fullQueryMs },
      bytesOnDisk: bytes,
      bytesPer100k: Math.round((bytes / Math.max(1, meter.ingested)) * 100_000),
      peakRssMB: peakRssMB(),
    }
  } finally {
    await db.close()
  }
}
