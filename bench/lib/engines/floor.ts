/**
 * The storage floor: the state rows our SQL stores write, written with plain
 * better-sqlite3 / pg upserts and nothing else. The query runs on the memory
 * store (untimed) to learn, per iteration, which state rows change; only the
 * SQL that writes them is timed. Each delay vertex gets a table like our
 * stores' (src/stores/sql.ts: 16-byte identity key, the row's canonical text,
 * weight, one key column per state index with an SQL index on (key, id)); a
 * changed row is one upsert of its new weight, or one delete when the weight
 * reaches zero; one transaction per iteration. SQLite gets the same pragmas as
 * our store (WAL, synchronous = NORMAL). Keep this in step with sql.ts.
 */
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import * as st from '../../../src/index.js'
import type { Vertex } from '../../../src/graph/graph.js'
import { stateIndexes, type Store, type Transaction } from '../../../src/stores/store.js'
import { identityBytes } from '../../../src/values/hash.js'
import { canonical, rowKey } from '../../../src/values/encode.js'
import { keyToBuffer } from '../../../src/values/key.js'
import type { ZSet } from '../../../src/zset/zset.js'
import { IngestMeter } from '../measure.js'
import { databaseTableBytes, freshDatabase } from '../pg.js'
import { sqliteBytes } from '../stores.js'
import type { RunConfig, RunResult } from '../types.js'
import { batched, workload } from '../workloads.js'

/** One state row to write: its identity, its text, its weight after the iteration (0 = delete), its index keys. */
interface StateRow {
  id: Buffer
  value: string
  weight: number
  keys: Buffer[]
}
interface TableWrite {
  table: number
  replaced: boolean
  rows: StateRow[]
}

/**
 * Wraps the memory store to record which rows of which delay each iteration
 * touched, and keeps each table's weights itself (through the public ZSet API
 * only, so it works on either backend).
 */
class Recorder {
  private touched = new Map<Vertex, { replaced: boolean; rows: Map<string | number, unknown> }>()
  private readonly weights = new Map<Vertex, Map<string | number, number>>()
  readonly store: Store
  constructor(
    inner: Store,
    private readonly tables: Map<Vertex, number>,
  ) {
    const touch = (d: Vertex, z: ZSet<unknown>, replaced: boolean) => {
      let t = this.touched.get(d)
      if (!t) this.touched.set(d, (t = { replaced: false, rows: new Map() }))
      let w = this.weights.get(d)
      if (!w) this.weights.set(d, (w = new Map()))
      if (replaced) {
        t.replaced = true
        t.rows.clear()
        w.clear()
      }
      for (const [value, weight] of z.iter()) {
        const key = rowKey(value)
        t.rows.set(key, value)
        const n = (w.get(key) ?? 0) + weight
        if (n === 0) w.delete(key)
        else w.set(key, n)
      }
    }
    this.store = {
      kind: inner.kind,
      graph: inner.graph,
      cacheReader: (d) => inner.cacheReader(d),
      close: () => inner.close(),
      transaction: (time, work) =>
        inner.transaction(time, (tx) => {
          const wrapped: Transaction = {
            reader: (d) => tx.reader(d),
            addDelta: async (d, delta) => {
              await tx.addDelta(d, delta)
              touch(d, delta as ZSet<unknown>, false)
            },
            replace: async (d, value) => {
              await tx.replace(d, value)
              touch(d, value as ZSet<unknown>, true)
            },
          }
          return work(wrapped)
        }),
    }
  }

  /** The writes of the last iteration, with each row's weight after it. */
  take(): TableWrite[] {
    const out: TableWrite[] = []
    for (const [d, t] of this.touched) {
      const weights = this.weights.get(d)!
      const indexes = stateIndexes(d)
      const rows: StateRow[] = []
      for (const [key, value] of t.rows) {
        const text = typeof key === 'number' ? String(key) : key
        rows.push({
          id: identityBytes(text),
          value: canonical(value),
          weight: weights.get(key) ?? 0,
          keys: indexes.map((ix) => keyToBuffer(ix.encodeKey(ix.key(value)))),
        })
      }
      out.push({ table: this.tables.get(d)!, replaced: t.replaced, rows })
    }
    this.touched = new Map()
    return out
  }
}

interface Sink {
  write(writes: TableWrite[]): Promise<void> | void
  bytes(): Promise<number>
  close(): Promise<void>
}

function columns(nKeys: number): string[] {
  return Array.from({ length: nKeys }, (_, i) => `ix${i}`)
}

function sqliteSink(file: string, delays: Vertex[]): Sink {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL') // as our SQLite store sets it
  const stmts = delays.map((d, t) => {
    const cols = columns(stateIndexes(d).length)
    db.exec(`CREATE TABLE s${t} (id BLOB PRIMARY KEY, value TEXT NOT NULL, weight INTEGER NOT NULL${cols.map((c) => `, ${c} BLOB NOT NULL`).join('')}) WITHOUT ROWID`)
    for (const c of cols) db.exec(`CREATE INDEX s${t}_${c} ON s${t} (${c}, id)`)
    const all = ['id', 'value', 'weight', ...cols]
    return {
      upsert: db.prepare(`INSERT INTO s${t} (${all.join(', ')}) VALUES (${all.map(() => '?').join(', ')}) ON CONFLICT (id) DO UPDATE SET weight = excluded.weight`),
      del: db.prepare(`DELETE FROM s${t} WHERE id = ?`),
      clear: db.prepare(`DELETE FROM s${t}`),
    }
  })
  const apply = db.transaction((writes: TableWrite[]) => {
    for (const w of writes) {
      const s = stmts[w.table]!
      if (w.replaced) s.clear.run()
      for (const r of w.rows) {
        if (r.weight === 0) s.del.run(r.id)
        else s.upsert.run(r.id, r.value, r.weight, ...r.keys)
      }
    }
  })
  return {
    write: (writes) => apply(writes),
    bytes: async () => sqliteBytes(db, file),
    close: async () => void db.close(),
  }
}

async function postgresSink(adminUrl: string, id: string, delays: Vertex[]): Promise<Sink> {
  const fresh = await freshDatabase(adminUrl, `bench_${id}`)
  const client = new pg.Client({ connectionString: fresh.url })
  await client.connect()
  const nKeys = delays.map((d) => stateIndexes(d).length)
  for (let t = 0; t < delays.length; t++) {
    const cols = columns(nKeys[t]!)
    await client.query(`CREATE TABLE s${t} (id bytea PRIMARY KEY, value text NOT NULL, weight bigint NOT NULL${cols.map((c) => `, ${c} bytea NOT NULL`).join('')})`)
    for (const c of cols) await client.query(`CREATE INDEX s${t}_${c} ON s${t} (${c}, id)`)
  }
  return {
    async write(writes) {
      await client.query('BEGIN')
      try {
        for (const w of writes) {
          const cols = columns(nKeys[w.table]!)
          if (w.replaced) await client.query(`DELETE FROM s${w.table}`)
          const live = w.rows.filter((r) => r.weight !== 0)
          const dead = w.rows.filter((r) => r.weight === 0)
          if (live.length) {
            const all = ['id', 'value', 'weight', ...cols]
            const types = ['bytea', 'text', 'bigint', ...cols.map(() => 'bytea')]
            const arrays: unknown[][] = [live.map((r) => r.id), live.map((r) => r.value), live.map((r) => r.weight)]
            cols.forEach((_, i) => arrays.push(live.map((r) => r.keys[i])))
            await client.query(
              `INSERT INTO s${w.table} (${all.join(', ')}) SELECT * FROM unnest(${types.map((ty, i) => `$${i + 1}::${ty}[]`).join(', ')})
               ON CONFLICT (id) DO UPDATE SET weight = excluded.weight`,
              arrays,
            )
          }
          if (dead.length) await client.query(`DELETE FROM s${w.table} WHERE id = ANY($1::bytea[])`, [dead.map((r) => r.id)])
        }
        await client.query('COMMIT')
      } catch (e) {
        await client.query('ROLLBACK')
        throw e
      }
    },
    bytes: () => databaseTableBytes(client),
    close: async () => {
      await client.end()
      await fresh.drop()
    },
  }
}

export async function runFloor(c: RunConfig): Promise<Partial<RunResult>> {
  if (c.store === 'memory') return { status: 'skipped', note: 'the storage floor is for SQL stores' }
  const w = workload(c.scenario, c.rows, c.seed)
  const delays = w.graph.def.delays
  const recorder = new Recorder(st.memoryStore(w.graph), new Map(delays.map((d, i) => [d, i])))
  const sink =
    c.store === 'sqlite' ? sqliteSink(path.join(c.dir, `${c.id}.sqlite`), delays) : await postgresSink(c.pgUrl!, c.id, delays)
  try {
    const acts = st.actions(recorder.store, w.graph) as unknown as st.Action<unknown, unknown[]>[]
    for (const [input, rows] of w.setup) {
      for (const b of batched(rows, 1000)) {
        await acts[input]!.insert(...b)
        await sink.write(recorder.take())
      }
    }
    const meter = new IngestMeter(c.rows, c.timeLimitS)
    let stateRows = 0
    let partial = false
    for (const b of batched(w.rows(), c.batch)) {
      await acts[w.mainInput]!.insert(...b) // untimed: the engine in memory
      const writes = recorder.take()
      for (const x of writes) stateRows += x.rows.length
      await meter.time(b.length, () => sink.write(writes))
      if (meter.overLimit) {
        partial = true
        break
      }
    }
    const bytes = await sink.bytes()
    return {
      status: partial ? 'partial' : 'ok',
      note: partial ? `stopped at the ${c.timeLimitS}s limit` : undefined,
      delays: delays.length,
      ...meter.result(),
      bytesOnDisk: bytes,
      bytesPer100k: Math.round((bytes / Math.max(1, meter.ingested)) * 100_000),
      // No peak RSS: this process also runs the engine in memory.
      extra: { stateRowsWritten: stateRows, stateRowsPerInputRow: Math.round((stateRows / Math.max(1, meter.ingested)) * 100) / 100 },
    }
  } finally {
    await sink.close()
  }
}
