/**
 * The storage floor: the state rows our SQL stores write, written with plain
 * better-sqlite3 / pg upserts and nothing else. The query runs on the memory
 * store (untimed) to learn, per iteration, which state rows change; only the
 * SQL that writes them is timed. Tables, columns and stored row texts are our
 * stores' own (`layoutFor` and `encodeRows` from src/stores/sql.ts: SQLite
 * clustered on (first key, stored text), PostgreSQL on (first key, identity),
 * one more index per further key; delays that integrate one stream share a
 * table); a changed row is one upsert of its new weight, or one delete when
 * the weight reaches zero; a table kept as a log gets one plain insert per key
 * and write (its chunk, as our stores write it; the floor never merges chunks);
 * field names are shortened by the same dictionary, kept in memory (see `withNames`);
 * one transaction per iteration. SQLite gets the same pragmas as our store
 * (WAL, synchronous = NORMAL, a checkpoint every WAL_CHECKPOINT_PAGES pages).
 *
 * The rate times the SQL alone. Encoding the rows into the stored form (keys
 * and stored texts from the rows' canonical texts, which the engine already
 * has) is timed apart, as `serializeSeconds`: our stores do that work for the
 * same rows, so no engine writing this format with this encoder can beat SQL +
 * serialization.
 */
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import * as st from '../../../src/index.js'
import type { Vertex } from '../../../src/graph/graph.js'
import { type EncodedRow, encodeNoting, encodeRows, layoutFor, logWrite, type NewChunk, type TableLayout } from '../../../src/stores/sql.js'
import { WAL_CHECKPOINT_PAGES } from '../../../src/stores/sqlite.js'
import type { Store, Transaction } from '../../../src/stores/store.js'
import { rowKey } from '../../../src/values/encode.js'
import { ZSet } from '../../../src/zset/zset.js'
import { IngestMeter } from '../measure.js'
import { databaseTableBytes, freshDatabase } from '../pg.js'
import { sqliteBytes } from '../stores.js'
import type { RunConfig, RunResult } from '../types.js'
import { batched, workload } from '../workloads.js'

interface TableWrite {
  table: TableLayout
  replaced: boolean
  /** Rows with their weight after the iteration. */
  live: EncodedRow[]
  /** Rows whose weight reached zero. */
  dead: EncodedRow[]
  /** A log table's chunks, one per key and write. */
  chunks: NewChunk[]
}

/**
 * Wraps the memory store to record which rows of which table each iteration
 * touched, and keeps each table's weights itself (through the public ZSet API
 * only, so it works on either backend). A shared table takes only its owner's writes, as in the stores.
 */
class Recorder {
  private touched = new Map<TableLayout, { replaced: boolean; rows: Map<string | number, unknown>; appended: ZSet<unknown>[] }>()
  private readonly weights = new Map<TableLayout, Map<string | number, number>>()
  /** Time spent encoding rows into their stored form, in `take`. */
  serializeMs = 0
  readonly store: Store
  constructor(
    inner: Store,
    private readonly tableOf: (d: Vertex) => TableLayout,
    private readonly withIds: boolean,
  ) {
    const touch = (d: Vertex, z: ZSet<unknown>, replaced: boolean) => {
      const table = this.tableOf(d)
      if (table.delay !== d) return
      let t = this.touched.get(table)
      if (!t) this.touched.set(table, (t = { replaced: false, rows: new Map(), appended: [] }))
      let w = this.weights.get(table)
      if (!w) this.weights.set(table, (w = new Map()))
      if (replaced) {
        t.replaced = true
        t.rows.clear()
        t.appended = []
        w.clear()
      }
      if (table.format === 'log') {
        t.appended.push(z)
        return
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

  /** The writes of the last iteration, encoded as the stores encode them, with each row's weight after it. */
  take(): TableWrite[] {
    const out: TableWrite[] = []
    for (const [table, t] of this.touched) {
      const weights = this.weights.get(table)!
      const live = new ZSet<unknown>()
      const dead = new ZSet<unknown>()
      for (const [key, value] of t.rows) {
        const w = weights.get(key) ?? 0
        if (w === 0) dead.addWeight(key, value, 1)
        else live.addWeight(key, value, w)
      }
      const started = performance.now()
      out.push({
        table,
        replaced: t.replaced,
        live: withNames(table, () => encodeRows(table, live, this.withIds)),
        dead: withNames(table, () => encodeRows(table, dead, this.withIds)),
        chunks: withNames(table, () => t.appended.flatMap((z) => logWrite(table, z))),
      })
      this.serializeMs += performance.now() - started
    }
    this.touched = new Map()
    return out
  }
}

/**
 * `encode()` with every field name in the dictionary, as our stores store them (they add a name to
 * their names table once, before its first row; the floor keeps the dictionary in memory only).
 */
function withNames<R>(table: TableLayout, encode: () => R): R {
  const { encoded, unknown } = encodeNoting(table.names, encode)
  if (unknown.length === 0) return encoded
  table.names.extend(table.names.size, unknown)
  return encode()
}

interface Sink {
  write(writes: TableWrite[]): Promise<void> | void
  bytes(): Promise<number>
  close(): Promise<void>
}

/** A table's statements: a log's plain insert of chunks, or the row upsert and delete. */
interface SqliteTableStatements {
  clear: Database.Statement
  append?: Database.Statement
  upsert?: Database.Statement
  del?: Database.Statement
  pkOf?: (r: EncodedRow) => unknown[]
}

function sqliteSink(file: string, tables: readonly TableLayout[]): Sink {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL') // as our SQLite store sets it
  db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`)
  let chunkNumber = 0
  const stmts = new Map<TableLayout, SqliteTableStatements>(
    tables.map((t): [TableLayout, SqliteTableStatements] => {
      if (t.format === 'log') {
        const c = t.keys[0]!.column
        db.exec(`CREATE TABLE ${t.name} (${c} BLOB NOT NULL, n INTEGER NOT NULL, rows TEXT NOT NULL, PRIMARY KEY (${c}, n)) WITHOUT ROWID`)
        const append = db.prepare(`INSERT INTO ${t.name} (${c}, n, rows) VALUES (?, ?, ?)`)
        const clear = db.prepare(`DELETE FROM ${t.name}`)
        return [t, { clear, append }]
      }
      const [first, ...rest] = t.keys
      const pk = first ? [first.column, 'val'] : ['val']
      db.exec(`CREATE TABLE ${t.name} (${t.keys.map((k) => `${k.column} BLOB NOT NULL, `).join('')}val TEXT NOT NULL, weight INTEGER NOT NULL, PRIMARY KEY (${pk.join(', ')})) WITHOUT ROWID`)
      for (const k of rest) db.exec(`CREATE INDEX ${k.sqlIndex} ON ${t.name} (${k.column})`)
      const all = [...t.keys.map((k) => k.column), 'val', 'weight']
      return [
        t,
        {
          upsert: db.prepare(`INSERT INTO ${t.name} (${all.join(', ')}) VALUES (${all.map(() => '?').join(', ')}) ON CONFLICT (${pk.join(', ')}) DO UPDATE SET weight = excluded.weight`),
          del: db.prepare(`DELETE FROM ${t.name} WHERE ${pk.map((c) => `${c} = ?`).join(' AND ')}`),
          clear: db.prepare(`DELETE FROM ${t.name}`),
          pkOf: (r: EncodedRow) => (first ? [r.keys[0], r.text] : [r.text]),
        },
      ]
    }),
  )
  const apply = db.transaction((writes: TableWrite[]) => {
    for (const w of writes) {
      const s = stmts.get(w.table)!
      if (w.replaced) s.clear.run()
      if (s.append) {
        for (const c of w.chunks) s.append.run(c.k0, ++chunkNumber, c.rows)
        continue
      }
      for (const r of w.live) s.upsert!.run(...r.keys, r.text, r.weight)
      for (const r of w.dead) s.del!.run(...s.pkOf!(r))
    }
  })
  return {
    write: (writes) => apply(writes),
    bytes: async () => sqliteBytes(db, file),
    close: async () => void db.close(),
  }
}

async function postgresSink(adminUrl: string, id: string, tables: readonly TableLayout[]): Promise<Sink> {
  const fresh = await freshDatabase(adminUrl, `bench_${id}`)
  const client = new pg.Client({ connectionString: fresh.url })
  await client.connect()
  const pkOf = (t: TableLayout) => (t.keys.length > 0 ? [t.keys[0]!.column, 'id'] : ['id'])
  for (const t of tables) {
    if (t.format === 'log') {
      const c = t.keys[0]!.column
      await client.query(`CREATE TABLE ${t.name} (${c} bytea NOT NULL, n bigint GENERATED ALWAYS AS IDENTITY, rows text STORAGE EXTERNAL NOT NULL, PRIMARY KEY (${c}, n))`)
      continue
    }
    await client.query(`CREATE TABLE ${t.name} (${t.keys.map((k) => `${k.column} bytea NOT NULL, `).join('')}id bytea NOT NULL, val text NOT NULL, weight bigint NOT NULL, PRIMARY KEY (${pkOf(t).join(', ')}))`)
    for (const k of t.keys.slice(1)) await client.query(`CREATE INDEX ${k.sqlIndex} ON ${t.name} (${k.column}, id)`)
  }
  return {
    async write(writes) {
      await client.query('BEGIN')
      try {
        for (const w of writes) {
          const t = w.table
          if (w.replaced) await client.query(`DELETE FROM ${t.name}`)
          if (t.format === 'log') {
            if (w.chunks.length) {
              await client.query(`INSERT INTO ${t.name} (${t.keys[0]!.column}, rows) SELECT * FROM unnest($1::bytea[], $2::text[])`, [
                w.chunks.map((c) => c.k0),
                w.chunks.map((c) => c.rows),
              ])
            }
            continue
          }
          if (w.live.length) {
            const cols = [...t.keys.map((k) => k.column), 'id', 'val', 'weight']
            const types = [...t.keys.map(() => 'bytea'), 'bytea', 'text', 'bigint']
            const arrays: unknown[][] = [...t.keys.map((_, i) => w.live.map((r) => r.keys[i])), w.live.map((r) => r.id), w.live.map((r) => r.text), w.live.map((r) => r.weight)]
            await client.query(
              `INSERT INTO ${t.name} (${cols.join(', ')}) SELECT * FROM unnest(${types.map((ty, i) => `$${i + 1}::${ty}[]`).join(', ')})
               ON CONFLICT (${pkOf(t).join(', ')}) DO UPDATE SET weight = excluded.weight`,
              arrays,
            )
          }
          if (w.dead.length) {
            if (t.keys.length === 0) await client.query(`DELETE FROM ${t.name} WHERE id = ANY($1::bytea[])`, [w.dead.map((r) => r.id)])
            else
              await client.query(`DELETE FROM ${t.name} WHERE (${t.keys[0]!.column}, id) IN (SELECT * FROM unnest($1::bytea[], $2::bytea[]))`, [
                w.dead.map((r) => r.keys[0]),
                w.dead.map((r) => r.id),
              ])
          }
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
  const layout = layoutFor(w.graph.def, 'floor')
  const recorder = new Recorder(st.memoryStore(w.graph), (d) => layout.byDelay.get(d)!, c.store === 'postgres')
  const sink =
    c.store === 'sqlite' ? sqliteSink(path.join(c.dir, `${c.id}.sqlite`), layout.tables) : await postgresSink(c.pgUrl!, c.id, layout.tables)
  try {
    const acts = st.actions(recorder.store, w.graph) as unknown as st.Action<unknown, unknown[]>[]
    for (const [input, rows] of w.setup) {
      for (const b of batched(rows, 1000)) {
        await acts[input]!.insert(...b)
        await sink.write(recorder.take())
      }
    }
    const meter = new IngestMeter(c.rows, c.timeLimitS)
    recorder.serializeMs = 0
    let stateRows = 0
    let partial = false
    for (const b of batched(w.rows(), c.batch)) {
      await acts[w.mainInput]!.insert(...b) // untimed: the engine in memory
      const writes = recorder.take()
      // Table rows written: a log's chunk is one.
      for (const x of writes) stateRows += x.live.length + x.dead.length + x.chunks.length
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
      extra: {
        stateRowsWritten: stateRows,
        stateRowsPerInputRow: Math.round((stateRows / Math.max(1, meter.ingested)) * 100) / 100,
        serializeSeconds: Math.round(recorder.serializeMs) / 1000,
      },
    }
  } finally {
    await sink.close()
  }
}
