/**
 * The SQLite store (better-sqlite3): the embedded default for a single service.
 * State lives in one table per delay vertex (see sql.ts); the database runs in
 * WAL mode; an iteration is one `BEGIN IMMEDIATE ... COMMIT` transaction, so
 * several processes can share one file: SQLite lets one writer in at a time,
 * and the time protocol orders them.
 *
 * better-sqlite3 is synchronous: each read or write below is one prepared
 * statement run to completion; a lookup binds its keys (or rows) as the
 * parameters of one `VALUES` list, so it is one query whatever their number.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import Database from 'better-sqlite3'
import type { Graph } from '../graph/compile.js'
import { Mutex } from './store.js'
import {
  checkIdentifier,
  denseNames,
  type EncodedRow,
  type KeyColumn,
  layoutFor,
  metadataRows,
  mismatchError,
  type NewChunk,
  type SqlDriver,
  type SqlReads,
  SqlStore,
  type SqlStoreOptions,
  sleep,
  type SqlTransaction,
  type SqlWrites,
  type StoredChunk,
  type StoredRow,
  StoreSchemaError,
  type StoreLayout,
  type TableLayout,
} from './sql.js'

type Db = Database.Database
type Statement = Database.Statement<unknown[], unknown>

/** Iterations on one file from one process take turns: a second connection's BEGIN would block the thread. */
const fileMutexes = new Map<string, Mutex>()

function mutexFor(db: Db): Mutex {
  if (db.memory || db.name === '' || db.name === ':memory:') return new Mutex()
  const file = resolve(db.name)
  let m = fileMutexes.get(file)
  if (!m) fileMutexes.set(file, (m = new Mutex()))
  return m
}

/** WAL pages between automatic checkpoints (see sqliteStore). */
export const WAL_CHECKPOINT_PAGES = 10_000

/** Multi-row statements come in power-of-two sizes, so a few prepared statements serve every batch. */
const MAX_ROWS_PER_STATEMENT = 256

/**
 * Reads bind their keys (or rows) as parameters, in one statement padded to a power of two
 * (well under SQLite's 32,766 parameters), so a batch's read of a table is one statement.
 */
const MAX_KEYS_PER_READ = 8192
const NO_KEY = Buffer.alloc(0)

/** `items` in parts of at most `max`, each read by `read(part, size, from)` with `size` the part's length rounded up to a power of two. */
function inPaddedParts<T, R>(items: readonly T[], max: number, read: (part: readonly T[], size: number, from: number) => R[]): R[] {
  const out: R[] = []
  for (let from = 0; from < items.length; from += max) {
    const part = items.slice(from, from + max)
    let size = 1
    while (size < part.length) size <<= 1
    for (const r of read(part, size, from)) out.push(r)
  }
  return out
}

/** Primary-key columns, and how to read them from a JSON list of `[key hex, stored text]` (or of texts, without keys). */
function primaryKey(table: TableLayout): { columns: string; fromJson: string } {
  if (table.keys.length === 0) return { columns: 'val', fromJson: 'SELECT value FROM json_each(?)' }
  return { columns: `${table.keys[0]!.column}, val`, fromJson: `SELECT unhex(value ->> 0), value ->> 1 FROM json_each(?)` }
}

/** The columns every read gives: the first key (the stored text may leave it out), text and weight. */
function selected(table: TableLayout): string {
  return `${table.keys.length > 0 ? `${table.keys[0]!.column} AS k0, ` : ''}val AS text, weight`
}

class SqliteDriver implements SqlDriver {
  readonly kind = 'sqlite' as const
  readonly storesIds = false
  readonly waitsBeforeBegin = true
  readonly readsShareTheTransaction = true
  readonly mutex: Mutex
  readonly location: string
  private readonly statements = new Map<string, Statement>()
  private layout: StoreLayout | undefined

  constructor(
    readonly db: Db,
    private readonly ownsDb: boolean,
  ) {
    this.mutex = mutexFor(db)
    this.location = db.memory ? 'the in-memory SQLite database' : `the SQLite database ${db.name}`
  }

  private statement(sql: string): Statement {
    let s = this.statements.get(sql)
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)))
    return s
  }

  /** A statement of many parameters, prepared once under a short name: its text is only built the first time. */
  private sized(name: string, sql: () => string): Statement {
    let s = this.statements.get(name)
    if (!s) this.statements.set(name, (s = this.db.prepare(sql())))
    return s
  }

  private tableExists(name: string): boolean {
    return this.statement(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined
  }

  async setup(layout: StoreLayout, createTables: boolean): Promise<void> {
    this.layout = layout
    const meta = checkIdentifier(layout.metaTable)
    const last = checkIdentifier(layout.lastUpdateTable)
    this.db.exec('BEGIN IMMEDIATE')
    try {
      if (!this.tableExists(meta)) {
        if (!createTables) {
          throw new StoreSchemaError(
            `stepping: ${this.location} has no stepping tables (prefix "${layout.prefix}"): ` +
              `open it with { createTables: true } to create them`,
          )
        }
        this.db.exec(`CREATE TABLE ${meta} (name TEXT PRIMARY KEY, value TEXT NOT NULL)`)
        // `chunks` numbers the chunks of a log table (see appendSync).
        this.db.exec(`CREATE TABLE ${last} (table_name TEXT PRIMARY KEY, t INTEGER NOT NULL, chunks INTEGER NOT NULL DEFAULT 0)`)
        this.db.exec(`CREATE TABLE ${checkIdentifier(layout.namesTable)} (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)`)
        for (const t of layout.tables) this.createTable(t)
        const insertMeta = this.db.prepare(`INSERT INTO ${meta} (name, value) VALUES (?, ?)`)
        for (const [name, value] of metadataRows(layout)) insertMeta.run(name, value)
        const insertTime = this.db.prepare(`INSERT INTO ${last} (table_name, t) VALUES (?, 0)`)
        for (const t of layout.tables) insertTime.run(t.name)
      } else {
        const rows = this.db.prepare(`SELECT name, value FROM ${meta}`).all() as { name: string; value: string }[]
        const stored = new Map(rows.map((r) => [r.name, r.value]))
        if (stored.get('fingerprint') !== layout.fingerprint) throw mismatchError(layout, stored, this.location)
        for (const t of layout.tables) {
          if (!this.tableExists(t.name)) throw new StoreSchemaError(`stepping: table ${t.name} (${t.delay.path}) is missing from ${this.location}`)
        }
        if (!this.tableExists(layout.namesTable)) throw new StoreSchemaError(`stepping: the field names table ${layout.namesTable} is missing from ${this.location}`)
        layout.names.extend(0, await this.reads.namesFrom(0))
      }
      this.db.exec('COMMIT')
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK')
      throw e
    }
  }

  /**
   * A table is clustered on its primary key (WITHOUT ROWID, so there is no
   * second B-tree): with keys, (first key, val), which is every read by that
   * key and its order; without, val. The row's text is its identity, so no
   * hash is stored. Further keys get an SQL index (which holds the primary key).
   */
  private createTable(t: TableLayout): void {
    if (t.format === 'log') {
      // A key's chunks side by side, oldest first: a read by key is one range of the primary key.
      this.db.exec(`CREATE TABLE ${t.name} (${t.keys[0]!.column} BLOB NOT NULL, n INTEGER NOT NULL, rows TEXT NOT NULL, PRIMARY KEY (${t.keys[0]!.column}, n)) WITHOUT ROWID`)
      return
    }
    const [first, ...rest] = t.keys
    const keyColumns = t.keys.map((k) => `${k.column} BLOB NOT NULL, `).join('')
    const primary = first ? `${first.column}, val` : 'val'
    // BLOBs and (BINARY-collated) texts compare bytewise.
    this.db.exec(`CREATE TABLE ${t.name} (${keyColumns}val TEXT NOT NULL, weight INTEGER NOT NULL, PRIMARY KEY (${primary})) WITHOUT ROWID`)
    for (const k of rest) this.db.exec(`CREATE INDEX ${k.sqlIndex} ON ${t.name} (${k.column})`)
  }

  // ---- reads (one statement each)

  readonly reads: SqlReads = {
    rowsByKeys: async (table: TableLayout, column: KeyColumn, keys: readonly Buffer[]) => {
      // Each row says which of `keys` it matched (its place in the list), rather than carrying a copy of the key.
      const first = column === table.keys[0]
      const rows = this.byKeyList(`keys ${table.name} ${column.column}`, keys, (list) =>
        `SELECT v.column1 AS i, ${first ? '' : `t.${table.keys[0]!.column} AS k0, `}t.val AS text, t.weight AS weight ` +
          `FROM ${list} AS v CROSS JOIN ${table.name} AS t ON t.${column.column} = v.column2`,
      ) as { i: number; k0?: Buffer; key?: Buffer; text: string; weight: number }[]
      for (const r of rows) {
        if (first) r.k0 = keys[r.i]!
        else r.key = keys[r.i]!
      }
      return rows as StoredRow[]
    },
    rowsByRows: async (table: TableLayout, rows: readonly EncodedRow[]) => {
      // Bound parameters (no JSON to write and parse), in one statement of a power-of-two size.
      const keyed = table.keys.length > 0
      return inPaddedParts(rows, MAX_KEYS_PER_READ / 2, (part, size) => {
        const params: unknown[] = []
        for (const r of part) {
          if (keyed) params.push(r.keys[0]!)
          params.push(r.text)
        }
        // Padded with rows no table has: an empty key, an empty text (a stored text never is).
        for (let j = part.length; j < size; j++) {
          if (keyed) params.push(NO_KEY)
          params.push('')
        }
        return this.rowsByRowsStatement(table, size).all(...params) as StoredRow[]
      })
    },
    rowsInOrder: async (table: TableLayout, column: KeyColumn, after: StoredRow | undefined, limit: number) => {
      // Resume after (key, primary key): unique, and the order of the index read.
      const c = column.column
      const first = column === table.keys[0]
      const order = first ? `${c}, val` : `${c}, ${table.keys[0]!.column}, val`
      const head = `SELECT ${selected(table)}${first ? '' : `, ${c} AS key`} FROM ${table.name}`
      if (after === undefined) return this.statement(`${head} ORDER BY ${order} LIMIT ?`).all(limit) as StoredRow[]
      const cursor = first ? [after.k0, after.text] : [after.key, after.k0, after.text]
      return this.statement(`${head} WHERE (${order}) > (${cursor.map(() => '?').join(', ')}) ORDER BY ${order} LIMIT ?`).all(
        ...cursor,
        limit,
      ) as StoredRow[]
    },
    rowsPaged: async (table: TableLayout, after: StoredRow | undefined, limit: number) => {
      const pk = primaryKey(table).columns
      const head = `SELECT ${selected(table)} FROM ${table.name}`
      if (after === undefined) return this.statement(`${head} ORDER BY ${pk} LIMIT ?`).all(limit) as StoredRow[]
      const cursor = table.keys.length > 0 ? [after.k0, after.text] : [after.text]
      return this.statement(`${head} WHERE (${pk}) > (${cursor.map(() => '?').join(', ')}) ORDER BY ${pk} LIMIT ?`).all(
        ...cursor,
        limit,
      ) as StoredRow[]
    },
    allRows: async (table: TableLayout) => this.statement(`SELECT ${selected(table)} FROM ${table.name}`).all() as StoredRow[],
    chunks: async (table: TableLayout, keys: readonly Buffer[] | undefined) => {
      const c = table.keys[0]!.column
      if (keys === undefined) return this.statement(`SELECT ${c} AS k0, n, rows FROM ${table.name} ORDER BY ${c}, n`).all() as StoredChunk[]
      const chunks = this.byKeyList(`chunks ${table.name}`, keys, (list) => `SELECT v.column1 AS i, t.n AS n, t.rows AS rows FROM ${list} AS v CROSS JOIN ${table.name} AS t ON t.${c} = v.column2`) as {
        i: number
        n: number
        rows: string
        k0?: Buffer
      }[]
      for (const r of chunks) r.k0 = keys[r.i]!
      // Grouped by key, oldest first. SQLite reads them so (key list, then the primary key), but
      // does not promise it; sorting here costs a pass over rows already in order.
      return chunks.sort((a, b) => a.i - b.i || a.n - b.n) as StoredChunk[]
    },
    lastUpdates: async (tables: readonly string[]) => {
      const rows = this.statement(
        `SELECT table_name, t FROM ${this.layout!.lastUpdateTable} WHERE table_name IN (SELECT value FROM json_each(?))`,
      ).all(JSON.stringify(tables)) as { table_name: string; t: number }[]
      return new Map(rows.map((r) => [r.table_name, r.t]))
    },
    namesFrom: async (from: number) =>
      denseNames(this.statement(`SELECT id, name FROM ${this.layout!.namesTable} WHERE id >= ? ORDER BY id`).all(from) as { id: number; name: string }[], from),
  }

  /**
   * Rows matching a list of keys, read with bound parameters in statements of a few fixed
   * sizes (as upserts): `sql` joins the table with `(VALUES (i, key), ...)`, whose first
   * column is each key's place in `keys`. Binding is well ahead of a JSON list that SQLite parses.
   */
  private byKeyList(name: string, keys: readonly Buffer[], sql: (list: string) => string): { i: number }[] {
    return inPaddedParts(keys, MAX_KEYS_PER_READ, (part, size, from) => {
      // Padded with empty keys, which no row has (every encoded key has a type byte).
      const params = [...part, ...Array<Buffer>(size - part.length).fill(NO_KEY)]
      const list = () => `(VALUES ${Array.from({ length: size }, (_, j) => `(${j}, ?)`).join(', ')})`
      const rows = this.sized(`${name} ${size}`, () => sql(list())).all(...params) as { i: number }[]
      for (const r of rows) r.i += from
      return rows
    })
  }

  private rowsByRowsStatement(table: TableLayout, rows: number): Statement {
    // The list drives (CROSS JOIN keeps it outside), each row one probe of the primary key.
    const keyed = table.keys.length > 0
    const tuple = keyed ? '(?, ?)' : '(?)'
    const on = keyed ? `t.${table.keys[0]!.column} = v.column1 AND t.val = v.column2` : 't.val = v.column1'
    const columns = `${keyed ? `t.${table.keys[0]!.column} AS k0, ` : ''}t.val AS text, t.weight AS weight`
    return this.sized(`rows ${table.name} ${rows}`, () => `SELECT ${columns} FROM (VALUES ${Array(rows).fill(tuple).join(', ')}) AS v CROSS JOIN ${table.name} AS t ON ${on}`)
  }

  // ---- writes

  private upsertStatement(table: TableLayout, rows: number): Statement {
    const columns = [...table.keys.map((k) => k.column), 'val', 'weight']
    const tuple = '(' + columns.map(() => '?').join(', ') + ')'
    // RETURNING gives rows in no set order: each row tells whether it was emptied, and which it is
    // (as `primaryKey(table).fromJson` reads it back), and gives NULL otherwise, so that little comes back.
    const emptied = table.keys.length > 0 ? `json_array(hex(${table.keys[0]!.column}), val)` : 'json_quote(val)'
    return this.sized(
      `upsert ${table.name} ${rows}`,
      () =>
        `INSERT INTO ${table.name} (${columns.join(', ')}) VALUES ${Array(rows).fill(tuple).join(', ')} ` +
        `ON CONFLICT (${primaryKey(table).columns}) DO UPDATE SET weight = weight + excluded.weight ` +
        `RETURNING iif(weight = 0, ${emptied}, NULL)`,
    ).pluck()
  }

  /**
   * Deletes the row a retraction cancels, if its weight is just that: a prepared single-row
   * statement per retraction. One multi-row `DELETE … WHERE (key, val, weight) IN (VALUES …)
   * RETURNING` per 256 retractions, whose returned rows then tell which to upsert, was slower
   * (wide at 1M rows, alternated: 18,455/19,014 against 20,922/21,076 rows/s).
   */
  private cancelStatement(table: TableLayout): Statement {
    const pk = table.keys.length > 0 ? [table.keys[0]!.column, 'val'] : ['val']
    return this.sized(`cancel ${table.name}`, () => `DELETE FROM ${table.name} WHERE ${pk.map((c) => `${c} = ?`).join(' AND ')} AND weight = ?`)
  }

  /**
   * Adds each row's weight to the stored one. A retraction (a group's old aggregate, a cache's old
   * value) mostly takes its row to zero: it is tried first as a delete of the row it cancels, one
   * statement where an upsert, its RETURNING and a delete would take three steps (wide at 1M rows,
   * alternated: 17,573-18,115 -> 19,707-22,041 rows/s; complex at 100k unchanged). The rest go as
   * multi-row upserts, and any row they leave at zero is deleted after.
   */
  private upsertSync(table: TableLayout, all: readonly EncodedRow[]): void {
    const cancel = this.cancelStatement(table)
    const keyed = table.keys.length > 0
    const rows: EncodedRow[] = []
    for (const r of all) {
      if (r.weight < 0) {
        const done = keyed ? cancel.run(r.keys[0], r.text, -r.weight) : cancel.run(r.text, -r.weight)
        if (done.changes > 0) continue
      }
      rows.push(r)
    }
    const emptied: string[] = []
    let i = 0
    while (i < rows.length) {
      let n = MAX_ROWS_PER_STATEMENT
      while (n > rows.length - i) n >>= 1
      const params: unknown[] = []
      for (let j = i; j < i + n; j++) {
        const r = rows[j]!
        params.push(...r.keys, r.text, r.weight)
      }
      for (const e of this.upsertStatement(table, n).all(...params) as (string | null)[]) if (e !== null) emptied.push(e)
      i += n
    }
    if (emptied.length > 0) {
      const pk = primaryKey(table)
      this.statement(`DELETE FROM ${table.name} WHERE (${pk.columns}) IN (${pk.fromJson}) AND weight = 0`).run(`[${emptied.join(',')}]`)
    }
  }

  private appendStatement(table: TableLayout, chunks: number): Statement {
    return this.sized(`append ${table.name} ${chunks}`, () => `INSERT INTO ${table.name} (${table.keys[0]!.column}, n, rows) VALUES ${Array(chunks).fill('(?, ?, ?)').join(', ')}`)
  }

  /**
   * Chunks are numbered by a counter per table (in last_update: one writer at a time holds
   * the database, so it is never read stale), one statement per write rather than a
   * search for each key's last number.
   */
  private appendSync(table: TableLayout, chunks: readonly NewChunk[]): void {
    if (chunks.length === 0) return
    const last = this.statement(`UPDATE ${this.layout!.lastUpdateTable} SET chunks = chunks + ? WHERE table_name = ? RETURNING chunks`)
      .pluck()
      .get(chunks.length, table.name) as number
    let next = last - chunks.length + 1
    let i = 0
    while (i < chunks.length) {
      let n = MAX_ROWS_PER_STATEMENT
      while (n > chunks.length - i) n >>= 1
      const params: unknown[] = []
      for (let j = i; j < i + n; j++) params.push(chunks[j]!.k0, next++, chunks[j]!.rows)
      this.appendStatement(table, n).run(...params)
      i += n
    }
  }

  private readonly writes: SqlWrites = {
    ...this.reads,
    upsert: async (table, rows) => this.upsertSync(table, rows),
    clear: async (table) => {
      this.statement(`DELETE FROM ${table.name}`).run()
    },
    appendChunks: async (table, chunks) => this.appendSync(table, chunks),
    // BEGIN IMMEDIATE holds the whole database: one writer at a time adds names.
    lockNames: async () => undefined,
    insertNames: async (from, names) => {
      const insert = this.statement(`INSERT INTO ${this.layout!.namesTable} (id, name) VALUES (?, ?)`)
      names.forEach((name, i) => insert.run(from + i, name))
    },
    dropChunks: async (table, chunks) => {
      if (chunks.length === 0) return
      this.statement(
        `DELETE FROM ${table.name} WHERE (${table.keys[0]!.column}, n) IN (SELECT unhex(value ->> 0), value ->> 1 FROM json_each(?))`,
      ).run(JSON.stringify(chunks.map((c) => [c.k0.toString('hex'), c.n])))
    },
  }

  private markSync(tables: readonly string[], time: number): void {
    if (tables.length === 0) return
    this.statement(
      `UPDATE ${this.layout!.lastUpdateTable} SET t = max(t, ?) WHERE table_name IN (SELECT value FROM json_each(?))`,
    ).run(time, JSON.stringify(tables))
  }

  async begin(_serialise: boolean, _acrossCommits: boolean): Promise<SqlTransaction> {
    // IMMEDIATE takes the write lock now: a snapshot taken by a deferred BEGIN could not be
    // upgraded once another process has committed. Other processes wait (busy timeout).
    this.db.exec('BEGIN IMMEDIATE')
    let open = true
    return {
      session: this.writes,
      commit: async (marks, time, reopen) => {
        // Marking and committing run without a pause, so nothing in this process sees marks uncommitted.
        if (time !== undefined) this.markSync(marks, time)
        this.db.exec('COMMIT')
        open = false
        if (reopen) {
          this.db.exec('BEGIN IMMEDIATE')
          open = true
        }
      },
      rollback: async () => {
        if (open && this.db.inTransaction) this.db.exec('ROLLBACK')
        open = false
      },
    }
  }

  async read<R>(work: (reads: SqlReads) => Promise<R>): Promise<R> {
    return work(this.reads)
  }

  /**
   * SQLite has no way to tell another process "committed", so a waiting writer polls; a poll
   * of the tiny last_update table costs microseconds, so poll often, and a writer's turn
   * starts within a millisecond of the commit it waits for.
   */
  readonly maxPauseMs = 1

  pause(ms: number): Promise<void> {
    return sleep(ms)
  }

  async close(): Promise<void> {
    if (this.ownsDb && this.db.open) this.db.close()
  }
}

/** A store kept in a SQLite file (or an in-memory database), read and written with better-sqlite3. */
export class SqliteStore extends SqlStore {
  /** The better-sqlite3 connection. */
  readonly db: Db

  /** @internal use `sqliteStore` */
  constructor(graph: Graph<any, any>, layout: StoreLayout, driver: SqliteDriver, options: SqlStoreOptions) {
    super(graph.def, layout, driver, options)
    this.db = driver.db
  }
}

/**
 * Open (and with `createTables`, create) the store for `graph` in a SQLite
 * database: a file path, ':memory:', or an open better-sqlite3 Database
 * (which stays open after `store.close()`).
 */
export async function sqliteStore(dbOrPath: Db | string, graph: Graph<any, any>, options: SqlStoreOptions = {}): Promise<SqliteStore> {
  const layout = layoutFor(graph.def, options.prefix)
  const owns = typeof dbOrPath === 'string'
  if (owns && !options.createTables && dbOrPath !== ':memory:' && dbOrPath !== '' && !existsSync(dbOrPath)) {
    throw new StoreSchemaError(`stepping: there is no SQLite database at ${dbOrPath}: open it with { createTables: true } to create one`)
  }
  // A generous busy timeout: another process's iteration may hold the write lock for a while.
  const db = owns ? new Database(dbOrPath, { timeout: 30_000 }) : dbOrPath
  try {
    if (!db.memory) {
      const mode = db.pragma('journal_mode = WAL', { simple: true })
      if (String(mode).toLowerCase() !== 'wal') throw new Error(`stepping: could not switch ${db.name} to WAL mode (got ${mode})`)
    }
    // In WAL mode, NORMAL loses no committed transaction when a process dies (only on power loss).
    if (owns) db.pragma('synchronous = NORMAL')
    // A checkpoint (WAL pages copied into the file, and synced) every ~40 MiB of WAL rather than
    // every 4 MiB (SQLite's 1,000 pages): an iteration that touches groups all over a large table
    // dirties ~1,000 pages, so with the default nearly every commit checkpointed. `wide` at 1M rows:
    // 13,480/14,461 -> 16,450/16,458 rows/s (alternated); `complex` and `ref` at 100k unchanged.
    if (owns) db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`)
    const driver = new SqliteDriver(db, owns)
    await driver.mutex.run(() => driver.setup(layout, options.createTables ?? false))
    return new SqliteStore(graph, layout, driver, options)
  } catch (e) {
    if (owns && db.open) db.close()
    throw e
  }
}
