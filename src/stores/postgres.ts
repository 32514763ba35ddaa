/**
 * The PostgreSQL store (pg): state shared by many writer processes on many
 * machines. One table per delay vertex (see sql.ts), in the connection's
 * current schema (set `search_path` to keep graphs apart, or use `prefix`).
 *
 * An iteration is one transaction on one pooled connection (READ COMMITTED).
 * Writers ordered by the time protocol wait, table by table, for their
 * frontier; writers without a time take a session advisory lock so that they
 * run one after another. Weights are added up in SQL (`ON CONFLICT ... DO
 * UPDATE`), rows are locked in primary-key order, and every statement is a
 * prepared statement (named, except reads and deletes of key or row lists,
 * see `planned`) with its values bound as parameters (arrays for batches:
 * `= ANY($1::bytea[])`, `unnest(...)`). An iteration's writes wait and go to the
 * server as one statement, with its commit's time mark (postgresWrites.ts).
 */
import { createHash } from 'node:crypto'
import pg from 'pg'
import type { Graph } from '../graph/compile.js'
import { Mutex } from './store.js'
import { TableVacuum } from './vacuum.js'
import { planned, primaryKey, type Queryable, run, type TimeMark, WriteQueue } from './postgresWrites.js'
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
  type StoredRow,
  StoreSchemaError,
  type StoreLayout,
  type TableLayout,
} from './sql.js'

type Row = { text: string; weight: string | number; k0?: Buffer; id?: Buffer; key?: Buffer }

const toStored = (rows: Row[]): StoredRow[] => {
  for (const r of rows) r.weight = Number(r.weight)
  return rows as StoredRow[]
}

/** The columns every read gives: the first key (the stored text may leave it out), id, text and weight. */
function selected(table: TableLayout): string {
  return `${table.keys.length > 0 ? `${table.keys[0]!.column} AS k0, ` : ''}id, val AS text, weight`
}

function readsOn(on: Queryable, layout: () => StoreLayout): SqlReads {
  return {
    async rowsByKeys(table: TableLayout, column: KeyColumn, keys: readonly Buffer[]) {
      const c = column.column
      const key = column === table.keys[0] ? '' : `, ${c} AS key`
      return toStored((await planned<Row>(on, `SELECT ${selected(table)}${key} FROM ${table.name} WHERE ${c} = ANY($1::bytea[])`, [keys])).rows)
    },
    async rowsByRows(table: TableLayout, rows: readonly EncodedRow[]) {
      const ids = rows.map((r) => r.id!)
      const r =
        table.keys.length > 0
          ? await planned<Row>(
              on,
              `SELECT ${selected(table)} FROM ${table.name} WHERE (${primaryKey(table)}) IN (SELECT * FROM unnest($1::bytea[], $2::bytea[]))`,
              [rows.map((x) => x.keys[0]!), ids],
            )
          : await planned<Row>(on, `SELECT ${selected(table)} FROM ${table.name} WHERE id = ANY($1::bytea[])`, [ids])
      return toStored(r.rows)
    },
    async rowsInOrder(table: TableLayout, column: KeyColumn, after: StoredRow | undefined, limit: number) {
      // (key, id) is unique, and the order of the primary key or the key's index.
      const c = column.column
      const head = `SELECT ${selected(table)}${column === table.keys[0] ? '' : `, ${c} AS key`} FROM ${table.name}`
      const r =
        after === undefined
          ? await run<Row>(on, `${head} ORDER BY ${c}, id LIMIT $1`, [limit])
          : await run<Row>(on, `${head} WHERE (${c}, id) > ($1::bytea, $2::bytea) ORDER BY ${c}, id LIMIT $3`, [after.key ?? after.k0, after.id, limit])
      return toStored(r.rows)
    },
    async rowsPaged(table: TableLayout, after: StoredRow | undefined, limit: number) {
      const pk = primaryKey(table)
      const head = `SELECT ${selected(table)} FROM ${table.name}`
      const cursor = after === undefined ? [] : table.keys.length > 0 ? [after.k0, after.id] : [after.id]
      const r =
        after === undefined
          ? await run<Row>(on, `${head} ORDER BY ${pk} LIMIT $1`, [limit])
          : await run<Row>(
              on,
              `${head} WHERE (${pk}) > (${cursor.map((_, i) => `$${i + 1}::bytea`).join(', ')}) ORDER BY ${pk} LIMIT $${cursor.length + 1}`,
              [...cursor, limit],
            )
      return toStored(r.rows)
    },
    async allRows(table: TableLayout) {
      return toStored((await run<Row>(on, `SELECT ${selected(table)} FROM ${table.name}`)).rows)
    },
    async chunks(table: TableLayout, keys: readonly Buffer[] | undefined) {
      const c = table.keys[0]!.column
      const head = `SELECT ${c} AS k0, n, rows FROM ${table.name}`
      const r =
        keys === undefined
          ? await run<{ k0: Buffer; n: string; rows: string }>(on, `${head} ORDER BY ${c}, n`)
          : await planned<{ k0: Buffer; n: string; rows: string }>(on, `${head} WHERE ${c} = ANY($1::bytea[]) ORDER BY ${c}, n`, [keys])
      return r.rows.map((row) => ({ k0: row.k0, n: Number(row.n), rows: row.rows }))
    },
    async lastUpdates(tables: readonly string[]) {
      const r = await run<{ table_name: string; t: string }>(
        on,
        `SELECT table_name, t FROM ${layout().lastUpdateTable} WHERE table_name = ANY($1::text[])`,
        [tables],
      )
      return new Map(r.rows.map((row) => [row.table_name, Number(row.t)]))
    },
    async namesFrom(from: number) {
      const r = await run<{ id: number; name: string }>(on, `SELECT id, name FROM ${layout().namesTable} WHERE id >= $1 ORDER BY id`, [from])
      return denseNames(r.rows, from)
    },
  }
}

/** An iteration's session: reads, and writes that wait in `queue` until the commit or a read of their table. */
interface QueuedSession extends SqlWrites {
  readonly queue: WriteQueue
}

function writesOn(
  on: Queryable,
  layout: () => StoreLayout,
  namesLockKey: () => string,
  vacuum: TableVacuum,
  writeTexts: Map<string, string>,
): QueuedSession {
  const queue = new WriteQueue(on, writeTexts)
  const reads = readsOn(on, layout)
  // A read of a table with queued writes sends them first, so that it sees them. Other tables, and the
  // names and times tables (which queued writes never touch), are read with the writes still queued.
  const after = <A extends [TableLayout, ...unknown[]], R>(f: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    await queue.flushFor(a[0])
    return f(...a)
  }
  return {
    ...reads,
    queue,
    rowsByKeys: after(reads.rowsByKeys),
    rowsByRows: after(reads.rowsByRows),
    rowsInOrder: after(reads.rowsInOrder),
    rowsPaged: after(reads.rowsPaged),
    allRows: after(reads.allRows),
    chunks: after(reads.chunks),
    async upsert(table: TableLayout, rows: readonly EncodedRow[]) {
      vacuum.note(table.name, rows.length)
      await queue.upsert(table, rows)
    },
    async clear(table: TableLayout) {
      await queue.flushFor(table)
      const r = await run(on, `DELETE FROM ${table.name}`)
      vacuum.note(table.name, (r as { rowCount?: number }).rowCount ?? 0)
    },
    async appendChunks(table: TableLayout, chunks: readonly NewChunk[]) {
      vacuum.note(table.name, chunks.length)
      await queue.appendChunks(table, chunks)
    },
    async dropChunks(table: TableLayout, chunks: readonly { k0: Buffer; n: number }[]) {
      if (chunks.length === 0) return
      await queue.flushFor(table)
      vacuum.note(table.name, chunks.length)
      await planned(on, `DELETE FROM ${table.name} WHERE (${table.keys[0]!.column}, n) IN (SELECT * FROM unnest($1::bytea[], $2::bigint[]))`, [
        chunks.map((c) => c.k0),
        chunks.map((c) => c.n),
      ])
    },
    async lockNames() {
      // Transaction-level: released with the commit that makes the names visible.
      await run(on, 'SELECT pg_advisory_xact_lock($1::bigint)', [namesLockKey()])
    },
    async insertNames(from: number, names: readonly string[]) {
      await run(on, `INSERT INTO ${layout().namesTable} (id, name) SELECT $1::int + i::int - 1, n FROM unnest($2::text[]) WITH ORDINALITY AS u (n, i)`, [
        from,
        names,
      ])
    },
  }
}

/** "the PostgreSQL database <name> on <host>", for messages (never the password). */
function describeDatabase(options: pg.PoolConfig): string {
  let database = options.database
  let host = options.host
  if (options.connectionString) {
    try {
      const url = new URL(options.connectionString)
      database ??= decodeURIComponent(url.pathname.slice(1))
      host ??= url.hostname
    } catch {
      // not a URL: keep what the options say
    }
  }
  return `the PostgreSQL database${database ? ' ' + database : ''}${host ? ' on ' + host : ''}`
}

class PostgresDriver implements SqlDriver {
  readonly kind = 'postgres' as const
  readonly storesIds = true
  readonly waitsBeforeBegin = false
  readonly readsShareTheTransaction = false
  readonly mutex = new Mutex()
  readonly location: string
  private layout: StoreLayout | undefined
  /** Key of the advisory lock that orders writers without a time (per schema and prefix). */
  private lockKey: string | undefined
  /** Key of the advisory lock that writers adding field names take (per schema and prefix). */
  private namesLockKey: string | undefined
  /** NOTIFY channel on which commits that mark times are announced (per schema and prefix). */
  private channel: string | undefined
  /** A connection that LISTENs on the channel, opened when an iteration first has to wait. */
  private listener: Promise<pg.Client | undefined> | undefined
  private readonly wakers = new Set<() => void>()
  private closed = false
  private readonly reads: SqlReads
  /** The write queues' statement texts (postgresWrites.ts), for this store's one layout. */
  private readonly writeTexts = new Map<string, string>()

  readonly vacuum: TableVacuum

  constructor(
    readonly pool: pg.Pool,
    private readonly ownsPool: boolean,
    vacuum: boolean,
  ) {
    this.vacuum = new TableVacuum(pool, vacuum)
    this.location = describeDatabase(pool.options)
    this.reads = readsOn(pool, () => this.layout!)
  }

  /** A pooled connection whose errors (a dropped connection) are turned into failed queries, not a crash. */
  private async connect(): Promise<{ client: pg.PoolClient; release: (broken?: boolean) => void }> {
    const client = await this.pool.connect()
    let failure: Error | undefined
    const onError = (e: Error): void => {
      failure = e
    }
    client.on('error', onError)
    let released = false
    return {
      client,
      release: (broken = false) => {
        if (released) return
        released = true
        client.removeListener('error', onError)
        // A broken connection is closed rather than handed to the next iteration.
        client.release(broken || failure ? (failure ?? new Error('connection discarded')) : undefined)
      },
    }
  }

  async setup(layout: StoreLayout, createTables: boolean): Promise<void> {
    this.layout = layout
    const { client, release } = await this.connect()
    let broken = false
    try {
      await client.query('BEGIN')
      // Two processes opening a fresh database at once must not both create the tables.
      const key = await client.query<{ key: string; names: string }>(
        `SELECT hashtextextended(current_schema() || ':' || $1::text, 0)::text AS key, hashtextextended(current_schema() || ':' || $1::text || ':names', 0)::text AS names`,
        [layout.prefix],
      )
      // A number the server computed: it goes into SQL text (see begin), so check that it is one.
      if (!/^-?\d{1,20}$/.test(key.rows[0]!.key)) throw new Error(`internal: advisory lock key ${JSON.stringify(key.rows[0]!.key)} is not an integer`)
      this.lockKey = key.rows[0]!.key
      this.namesLockKey = key.rows[0]!.names
      this.channel = checkIdentifier(`${layout.prefix}_written_${createHash('sha256').update(this.lockKey).digest('hex').slice(0, 12)}`)
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [this.lockKey])
      const meta = checkIdentifier(layout.metaTable)
      const last = checkIdentifier(layout.lastUpdateTable)
      const exists = async (name: string): Promise<boolean> =>
        (await client.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [name])).rows[0]!.found !== null
      if (!(await exists(meta))) {
        if (!createTables) {
          throw new StoreSchemaError(
            `stepping: ${this.location} has no stepping tables (prefix "${layout.prefix}") in its current schema: ` +
              `open it with { createTables: true } to create them`,
          )
        }
        // Only generated, checked identifiers here: sent as one script, one round trip.
        const ddl = [
          `CREATE TABLE ${meta} (name text PRIMARY KEY, value text NOT NULL)`,
          `CREATE TABLE ${last} (table_name text PRIMARY KEY, t bigint NOT NULL)`,
          `CREATE TABLE ${checkIdentifier(layout.namesTable)} (id integer PRIMARY KEY, name text NOT NULL UNIQUE)`,
        ]
        for (const t of layout.tables) {
          if (t.format === 'log') {
            // A key's chunks side by side, oldest first (see "logs" in sql.ts). Chunk texts are stored
            // uncompressed: they are written once and mostly never read, and pglz on a batch's chunk cost
            // ~6% of `ref`'s rows/s (storage 7.7 instead of 3.0 MB per 100k rows; the reference takes 22).
            const c = t.keys[0]!.column
            ddl.push(`CREATE TABLE ${t.name} (${c} bytea NOT NULL, n bigint GENERATED ALWAYS AS IDENTITY, rows text STORAGE EXTERNAL NOT NULL, PRIMARY KEY (${c}, n))`)
            continue
          }
          // bytea compares bytewise: (key, id) is the memory store's order. The primary key
          // (first key, id) serves reads by that key; further keys get an index of their own.
          const keyColumns = t.keys.map((k) => `${k.column} bytea NOT NULL, `).join('')
          ddl.push(`CREATE TABLE ${t.name} (${keyColumns}id bytea NOT NULL, val text NOT NULL, weight bigint NOT NULL, PRIMARY KEY (${primaryKey(t)}))`)
          for (const k of t.keys.slice(1)) ddl.push(`CREATE INDEX ${k.sqlIndex} ON ${t.name} (${k.column}, id)`)
        }
        await client.query(ddl.join(';\n'))
        const rows = metadataRows(layout)
        await client.query(`INSERT INTO ${meta} (name, value) SELECT unnest($1::text[]), unnest($2::text[])`, [
          rows.map(([name]) => name),
          rows.map(([, value]) => value),
        ])
        await client.query(`INSERT INTO ${last} (table_name, t) SELECT unnest($1::text[]), 0`, [layout.tables.map((t) => t.name)])
      } else {
        const rows = (await client.query<{ name: string; value: string }>(`SELECT name, value FROM ${meta}`)).rows
        const stored = new Map(rows.map((r) => [r.name, r.value]))
        if (stored.get('fingerprint') !== layout.fingerprint) throw mismatchError(layout, stored, this.location)
        for (const t of layout.tables) {
          if (!(await exists(t.name))) throw new StoreSchemaError(`stepping: table ${t.name} (${t.delay.path}) is missing from ${this.location}`)
        }
        if (!(await exists(layout.namesTable))) throw new StoreSchemaError(`stepping: the field names table ${layout.namesTable} is missing from ${this.location}`)
        layout.names.extend(0, await readsOn(client, () => layout).namesFrom(0))
      }
      await client.query('COMMIT')
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {
        broken = true
      })
      throw e
    } finally {
      release(broken)
    }
  }

  async begin(serialise: boolean, acrossCommits: boolean): Promise<SqlTransaction> {
    const { client, release } = await this.connect()
    let locked = false
    let open = false
    try {
      if (serialise && acrossCommits) {
        // Session-level, so that it is held over the commits of `flushEverySet`; it goes away with the connection.
        await client.query('SELECT pg_advisory_lock($1::bigint)', [this.lockKey])
        locked = true
      }
      // The transaction's lock is released by COMMIT or ROLLBACK (or a lost connection). Taken with
      // BEGIN in one round trip: a simple query of two statements, so the key (a checked integer) is in the text.
      await client.query(serialise && !acrossCommits ? `BEGIN; SELECT pg_advisory_xact_lock(${this.lockKey}::bigint)` : 'BEGIN')
      open = true
    } catch (e) {
      release(true)
      throw e
    }
    const session = writesOn(client, () => this.layout!, () => this.namesLockKey!, this.vacuum, this.writeTexts)
    const end = async (): Promise<void> => {
      let broken = false
      if (locked) {
        try {
          await client.query('SELECT pg_advisory_unlock($1::bigint)', [this.lockKey])
        } catch {
          broken = true
        }
      }
      release(broken)
    }
    return {
      session,
      commit: async (marks, time, reopen) => {
        // One round trip before COMMIT: the queued writes, and the time marked (the writers waiting for it woken at COMMIT).
        const mark: TimeMark | undefined =
          time !== undefined && marks.length > 0
            ? { lastUpdateTable: this.layout!.lastUpdateTable, channel: this.channel!, time, tables: [...marks].sort() }
            : undefined
        await session.queue.flush(mark)
        await client.query('COMMIT')
        open = false
        this.vacuum.poke()
        if (reopen) {
          await client.query('BEGIN')
          open = true
        } else {
          await end()
        }
      },
      rollback: async () => {
        session.queue.discard()
        if (!open) return end()
        open = false
        try {
          await client.query('ROLLBACK')
        } catch {
          // The connection is gone, and with it the transaction and the lock.
          release(true)
          return
        }
        await end()
      },
    }
  }

  async read<R>(work: (reads: SqlReads) => Promise<R>): Promise<R> {
    return work(this.reads)
  }

  /** Notifications wake a waiting writer at once; polling is only the fallback. */
  readonly maxPauseMs = 20

  private listen(): Promise<pg.Client | undefined> {
    this.listener ??= (async () => {
      const client = new pg.Client(this.pool.options)
      client.on('error', () => {
        // Lost: the next wait opens another.
        this.listener = undefined
      })
      client.on('notification', () => {
        for (const wake of this.wakers) wake()
        this.wakers.clear()
      })
      try {
        await client.connect()
        await client.query(`LISTEN ${this.channel}`)
        if (this.closed) await client.end()
        return client
      } catch {
        this.listener = undefined
        await client.end().catch(() => undefined)
        return undefined
      }
    })()
    return this.listener
  }

  pause(ms: number): Promise<void> {
    if (this.closed) return sleep(ms)
    void this.listen()
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer)
        this.wakers.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      this.wakers.add(wake)
    })
  }

  async close(): Promise<void> {
    this.closed = true
    const listener = await this.listener
    await listener?.end().catch(() => undefined)
    await this.vacuum.settled()
    if (this.ownsPool) await this.pool.end()
  }
}

/** A store kept in PostgreSQL, read and written with pg. */
export class PostgresStore extends SqlStore {
  /** The connection pool. */
  readonly pool: pg.Pool

  /** Background vacuums run so far by this store, per table name (see `PostgresStoreOptions.vacuum`). */
  readonly vacuums: ReadonlyMap<string, number>

  /** @internal use `postgresStore` */
  constructor(graph: Graph<any, any>, layout: StoreLayout, driver: PostgresDriver, options: SqlStoreOptions) {
    super(graph.def, layout, driver, options)
    this.pool = driver.pool
    this.vacuums = driver.vacuum.vacuumed
  }
}

export interface PostgresStoreOptions extends SqlStoreOptions {
  /**
   * Vacuum (and analyze) the store's tables from the pool, in the background, as their rows turn
   * over (default true; see vacuum.ts). Turn it off when autovacuum is tuned for these tables.
   */
  vacuum?: boolean
}

/**
 * Open (and with `createTables`, create) the store for `graph` in PostgreSQL:
 * a connection URL (the store owns its pool and ends it on `close()`) or a
 * `pg.Pool` (left open).
 */
export async function postgresStore(poolOrUrl: pg.Pool | string, graph: Graph<any, any>, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const layout = layoutFor(graph.def, options.prefix)
  const owns = typeof poolOrUrl === 'string'
  const pool = owns ? new pg.Pool({ connectionString: poolOrUrl }) : poolOrUrl
  // An idle connection that drops is removed by the pool; without a listener it would crash the process.
  if (owns) pool.on('error', () => undefined)
  const driver = new PostgresDriver(pool, owns, options.vacuum ?? true)
  try {
    await driver.setup(layout, options.createTables ?? false)
  } catch (e) {
    if (owns) await pool.end().catch(() => undefined)
    throw e
  }
  return new PostgresStore(graph, layout, driver, options)
}
