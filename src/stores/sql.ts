/**
 * What the SQL stores (SQLite, PostgreSQL) share: the table layout of a graph
 * (one table per delay vertex, named deterministically from the vertex path,
 * plus a metadata table with the graph's fingerprint and a `last_update`
 * table for the time protocol), the encoding of ZSet rows as table rows, and
 * the store itself: transactions, batched reads, the time protocol and cache
 * reads. A driver (sqlite.ts, postgres.ts) supplies the SQL.
 *
 * Each state table holds, per row: `id` (the row's 16-byte identity hash,
 * the primary key), `canonical` (its canonical text), `weight`, and one key
 * column per index holding the order-preserving key bytes; an SQL index on
 * (key, id) gives the memory store's order: by key, ties by identity hash.
 */
import { createHash } from 'node:crypto'
import type { GraphDef, Scope, Vertex } from '../graph/graph.js'
import type { Time } from '../runtime/time.js'
import { type ScanRow, type StateReader, ZSetView } from '../runtime/view.js'
import { decodeCanonical } from '../values/encode.js'
import { identityBytes } from '../values/hash.js'
import { keyFromBuffer, keyToBuffer } from '../values/key.js'
import type { Index } from '../zset/indexes.js'
import { ZSet } from '../zset/zset.js'
import { type CacheReader, Mutex, type Store, type Transaction, stateIndexes } from './store.js'

// ---------------------------------------------------------------- options

export interface SqlStoreOptions {
  /** Create the tables when they do not exist yet (default false: they must exist). */
  createTables?: boolean
  /** Prefix of every table name (default "st"), so that several graphs can share one database. */
  prefix?: string
  /** How long an iteration waits for its frontier before failing, in ms (default 30 000). */
  frontierTimeoutMs?: number
}

const DEFAULT_PREFIX = 'st'
const DEFAULT_FRONTIER_TIMEOUT_MS = 30_000

// ---------------------------------------------------------------- errors

/** The tables in the database were made by a different graph (or are missing). */
export class StoreSchemaError extends Error {
  override readonly name = 'StoreSchemaError'
}

/** An iteration waited too long for the tables it reads to be written up to its frontier. */
export class FrontierTimeoutError extends Error {
  override readonly name = 'FrontierTimeoutError'
  constructor(
    readonly frontier: number,
    readonly table: string,
    readonly reached: number,
    waitedMs: number,
  ) {
    super(
      `stepping: waited ${(waitedMs / 1000).toFixed(1)}s for table ${table} to be written up to frontier ${frontier}, ` +
        `but it has only reached time ${reached}. Is the writer of input time ${frontier} still running? ` +
        `A writer that crashed must have its batch re-run with a new input time.`,
    )
  }
}

// ---------------------------------------------------------------- identifiers and layout

/** Every identifier we put into SQL text matches this; values never go into SQL text. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/

export function checkIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`internal: ${JSON.stringify(name)} is not a safe SQL identifier`)
  return name
}

function shortHash(text: string, hexDigits = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, hexDigits)
}

/** Lower-case letters, digits and single underscores; at most `max` characters (the tail, which is most specific). */
function sanitise(text: string, max: number): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
  return s.length <= max ? s : s.slice(s.length - max).replace(/^_+/, '')
}

export interface KeyColumn {
  readonly index: Index<any, any>
  /** Column holding the index key's bytes. */
  readonly column: string
  /** The SQL index on (column, id). */
  readonly sqlIndex: string
}

export interface TableLayout {
  readonly delay: Vertex
  readonly name: string
  readonly keys: readonly KeyColumn[]
  /** Inside a fixed point a delay is written many times per iteration, so it is never flushed early. */
  readonly inFixedPoint: boolean
}

export interface StoreLayout {
  readonly prefix: string
  readonly tables: readonly TableLayout[]
  readonly byDelay: ReadonlyMap<Vertex, TableLayout>
  /** name → value: the fingerprint and the graph description. */
  readonly metaTable: string
  /** table name → the input time it has been written up to. */
  readonly lastUpdateTable: string
  readonly fingerprint: string
  /** One line per vertex; stored so that a mismatch can say what differs. */
  readonly description: readonly string[]
}

function inFixedPoint(scope: Scope): boolean {
  for (let s: Scope | undefined = scope; s; s = s.parent) if (s.kind === 'fixedPoint') return true
  return false
}

/** One line per vertex: its path, kind, value kind, scope, inputs and indexes. */
export function describeGraph(graph: GraphDef): string[] {
  return graph.allVertices.map((v) => {
    const p = v.params
    const indexes = [
      ...(p.indexes ?? []).map((i) => `indexes=${i.id}`),
      ...(p.index ? [`index=${p.index.id}`] : []),
      ...(p.onLeft ? [`onLeft=${p.onLeft.id}`] : []),
      ...(p.onRight ? [`onRight=${p.onRight.id}`] : []),
      ...(p.by ? [`by=${p.by.id}`] : []),
    ]
    const scope = v.scope.kind === 'root' ? '' : ` in ${v.scope.kind}(${v.scope.path})`
    const inputs = v.inputs.length ? ` <- ${v.inputs.map((i) => i.path).join(', ')}` : ''
    return `${v.path}: ${v.kind} ${v.value}${scope}${inputs}${indexes.length ? ' [' + indexes.join(' ') + ']' : ''}`
  })
}

export function layoutFor(graph: GraphDef, prefixOption: string | undefined): StoreLayout {
  const prefix = prefixOption ?? DEFAULT_PREFIX
  if (!/^[a-z][a-z0-9_]{0,15}$/.test(prefix)) {
    throw new TypeError(`prefix ${JSON.stringify(prefix)} must be lower-case letters, digits and _ (at most 16, starting with a letter)`)
  }
  const tables: TableLayout[] = []
  const byDelay = new Map<Vertex, TableLayout>()
  const used = new Set<string>()
  for (const delay of graph.delays) {
    // The path is sanitised for readability; the hash of the exact path keeps names distinct.
    const name = checkIdentifier(`${prefix}_${sanitise(delay.path, 40)}_${shortHash(delay.path)}`.replace(/__+/g, '_'))
    if (used.has(name)) throw new Error(`internal: two delay vertices map to table ${name}`)
    used.add(name)
    const keys = stateIndexes(delay).map((index, i) => ({
      index,
      column: checkIdentifier(`k${i}_${sanitise(index.name, 24) || 'key'}`),
      sqlIndex: checkIdentifier(`${name}_k${i}`),
    }))
    const table: TableLayout = { delay, name, keys, inFixedPoint: inFixedPoint(delay.scope) }
    tables.push(table)
    byDelay.set(delay, table)
  }
  const description = describeGraph(graph)
  return {
    prefix,
    tables,
    byDelay,
    metaTable: checkIdentifier(`${prefix}_graph`),
    lastUpdateTable: checkIdentifier(`${prefix}_last_update`),
    fingerprint: shortHash(JSON.stringify(description), 32),
    description,
  }
}

/** What the metadata table holds: the fingerprint, the graph description and the state tables' names. */
export function metadataRows(layout: StoreLayout): [string, string][] {
  return [
    ['fingerprint', layout.fingerprint],
    ['description', JSON.stringify(layout.description)],
    ['tables', JSON.stringify(layout.tables.map((t) => t.name))],
  ]
}

/** The error for tables made by another graph: what differs, and how to rebuild. */
export function mismatchError(layout: StoreLayout, stored: ReadonlyMap<string, string>, where: string): StoreSchemaError {
  const storedFingerprint = stored.get('fingerprint') ?? '(none)'
  const storedDescription = stored.get('description')
  const lines: string[] = []
  if (storedDescription !== undefined) {
    let stored: string[] = []
    try {
      stored = JSON.parse(storedDescription) as string[]
    } catch {
      stored = []
    }
    const pathOf = (line: string): string => line.slice(0, line.indexOf(': '))
    const before = new Map(stored.map((l) => [pathOf(l), l]))
    const now = new Map(layout.description.map((l) => [pathOf(l), l]))
    for (const [path, line] of before) {
      const current = now.get(path)
      if (current === undefined) lines.push(`  - only in the stored graph: ${line}`)
      else if (current !== line) lines.push(`  ~ changed: ${line}\n          now: ${current}`)
    }
    for (const [path, line] of now) if (!before.has(path)) lines.push(`  + only in this graph: ${line}`)
  }
  const shown = lines.slice(0, 20)
  if (lines.length > shown.length) shown.push(`  ... and ${lines.length - shown.length} more differences`)
  let stateTables = [`the ${layout.prefix}_* state tables`]
  try {
    stateTables = JSON.parse(stored.get('tables') ?? 'null') ?? stateTables
  } catch {
    // keep the general wording
  }
  const tables = [layout.metaTable, layout.lastUpdateTable, ...stateTables].join(', ')
  return new StoreSchemaError(
    `stepping: the tables with prefix "${layout.prefix}" in ${where} were made by a different graph ` +
      `(stored fingerprint ${storedFingerprint}, this graph ${layout.fingerprint}).\n` +
      (shown.length ? `What differs:\n${shown.join('\n')}\n` : '') +
      `Stored state cannot be carried over to a changed graph. To rebuild: drop the tables (${tables}) ` +
      `and open with { createTables: true } (then replay the inputs), or use a fresh database, or another { prefix }.`,
  )
}

// ---------------------------------------------------------------- rows

/** A state row ready to be written. */
export interface EncodedRow {
  readonly id: Buffer
  readonly canonical: string
  readonly weight: number
  /** One per key column, in layout order. */
  readonly keys: readonly Buffer[]
}

/** A state row as read back; ordered reads also give `key` (the scanned key column's bytes) and `id`. */
export interface StoredRow {
  readonly canonical: string
  readonly weight: number
  readonly key?: Buffer
  readonly id?: Buffer
}

/** Where an ordered scan stopped: the next page starts after this (key, id). */
export interface ScanCursor {
  readonly key: Buffer
  readonly id: Buffer
}

const textOfKey = (key: string | number): string => (typeof key === 'number' ? String(key) : key)

/** Rows of a ZSet as table rows, sorted by id so that concurrent writers lock rows in one order. */
export function encodeRows(table: TableLayout, z: ZSet<unknown>): EncodedRow[] {
  const out: EncodedRow[] = []
  for (const e of z.entries.values()) {
    const canonical = textOfKey(e.key)
    out.push({
      id: identityBytes(canonical),
      canonical,
      weight: e.weight,
      keys: table.keys.map((k) => keyToBuffer(k.index.encodeKey(k.index.key(e.value)))),
    })
  }
  return out.sort((a, b) => Buffer.compare(a.id, b.id))
}

/** The in-memory row key of a decoded value: finite numbers are their own key, as in `rowKey`. */
function rowKeyOf(value: unknown, canonical: string): string | number {
  return typeof value === 'number' && Number.isFinite(value) ? value : canonical
}

export function rowsToZSet<T>(rows: Iterable<StoredRow>, keep?: (value: T) => boolean): ZSet<T> {
  const out = new ZSet<T>()
  for (const r of rows) {
    const value = decodeCanonical(r.canonical) as T
    if (keep && !keep(value)) continue
    out.addWeight(rowKeyOf(value, r.canonical), value, r.weight)
  }
  return out
}

export function idOf(key: string | number): Buffer {
  return identityBytes(textOfKey(key))
}

// ---------------------------------------------------------------- driver interface

/** Reads a driver answers on one connection; each is one SQL statement. */
export interface SqlReads {
  /** Rows whose key column is one of `keys`, ordered by (key, id). */
  rowsByKeys(table: TableLayout, column: KeyColumn, keys: readonly Buffer[]): Promise<StoredRow[]>
  /** Rows with these ids. */
  rowsByIds(table: TableLayout, ids: readonly Buffer[]): Promise<StoredRow[]>
  /** Up to `limit` rows in (key, id) order after `after`, with `key` and `id` set. */
  rowsInOrder(table: TableLayout, column: KeyColumn, after: ScanCursor | undefined, limit: number): Promise<StoredRow[]>
  /** Up to `limit` rows in id order after `after` (for unordered full reads in pages). */
  rowsById(table: TableLayout, after: Buffer | undefined, limit: number): Promise<(StoredRow & { id: Buffer })[]>
  allRows(table: TableLayout): Promise<StoredRow[]>
  /** The time each named table has been written up to. */
  lastUpdates(tables: readonly string[]): Promise<Map<string, number>>
}

export interface SqlWrites extends SqlReads {
  /** state += rows, in SQL; rows whose weight becomes 0 are deleted. */
  upsert(table: TableLayout, rows: readonly EncodedRow[]): Promise<void>
  /** Delete every row. */
  clear(table: TableLayout): Promise<void>
}

/** One iteration's database transaction. */
export interface SqlTransaction {
  readonly session: SqlWrites
  /** Mark `marks` as written up to `time` (when given) and commit; with `reopen`, start the next transaction at once. */
  commit(marks: readonly string[], time: number | undefined, reopen: boolean): Promise<void>
  /** Undo everything since the last commit and end the transaction. */
  rollback(): Promise<void>
}

export interface SqlDriver {
  readonly kind: 'sqlite' | 'postgres'
  /** Names the database in messages. */
  readonly location: string
  /**
   * SQLite: one writer at a time holds the whole database, so an iteration waits for its
   * frontier before it begins. PostgreSQL: each table is waited for when it is first read.
   */
  readonly waitsBeforeBegin: boolean
  /** SQLite shares one connection between iterations and cache reads: reads must not run mid-iteration. */
  readonly readsShareTheTransaction: boolean
  /** Iterations on this store (SQLite: on this file, in this process) run one at a time. */
  readonly mutex: Mutex
  /** Create missing tables (when asked) and check the fingerprint, as one transaction. */
  setup(layout: StoreLayout, createTables: boolean): Promise<void>
  /**
   * Begin an iteration's transaction. `serialise` asks for a lock that orders writers
   * without a time; `acrossCommits` says it must be held over `commit(..., reopen)`.
   */
  begin(serialise: boolean, acrossCommits: boolean): Promise<SqlTransaction>
  /** Reads outside any iteration (committed state only). */
  read<R>(work: (reads: SqlReads) => Promise<R>): Promise<R>
  /** Wait `ms` between two polls of the time protocol, or less if another writer commits meanwhile. */
  pause(ms: number): Promise<void>
  /** The longest pause between two polls. */
  readonly maxPauseMs: number
  close(): Promise<void>
}

// ---------------------------------------------------------------- the store

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Poll until `poll` says yes, with bounded exponential backoff between polls
 * (0.5 ms growing to the driver's cap), failing at `deadline`. Between polls
 * the driver may wake up early when another writer commits.
 */
async function waitUntil(
  driver: SqlDriver,
  deadline: number,
  poll: () => Promise<{ ok: true } | { ok: false; table: string; reached: number }>,
  onTimeout: (table: string, reached: number) => Error,
): Promise<void> {
  let pause = 0.5
  for (;;) {
    const r = await poll()
    if (r.ok) return
    if (Date.now() >= deadline) throw onTimeout(r.table, r.reached)
    await driver.pause(Math.min(pause, Math.max(1, deadline - Date.now())))
    pause = Math.min(pause * 1.6, driver.maxPauseMs)
  }
}

const PAGE_FIRST = 64
const PAGE_MAX = 4096

/** Ordered rows of one key column, read page by page so that a consumer can stop early. */
async function* orderedRows(
  read: (after: ScanCursor | undefined, limit: number) => Promise<StoredRow[]>,
): AsyncGenerator<StoredRow & { key: Buffer; id: Buffer }> {
  let after: ScanCursor | undefined
  let limit = PAGE_FIRST
  for (;;) {
    const rows = await read(after, limit)
    for (const r of rows) yield r as StoredRow & { key: Buffer; id: Buffer }
    if (rows.length < limit) return
    const last = rows[rows.length - 1]!
    after = { key: last.key!, id: last.id! }
    limit = Math.min(limit * 4, PAGE_MAX)
  }
}

export class SqlStore implements Store {
  readonly kind: 'sqlite' | 'postgres'
  private readonly frontierTimeoutMs: number
  private readonly allTables: string[]

  constructor(
    readonly graph: GraphDef,
    readonly layout: StoreLayout,
    private readonly driver: SqlDriver,
    options: SqlStoreOptions,
  ) {
    this.kind = driver.kind
    this.frontierTimeoutMs = options.frontierTimeoutMs ?? DEFAULT_FRONTIER_TIMEOUT_MS
    this.allTables = layout.tables.map((t) => t.name)
  }

  private table(delay: Vertex): TableLayout {
    const t = this.layout.byDelay.get(delay)
    if (!t) throw new Error(`no table for ${delay.path}: the store was opened for another graph`)
    return t
  }

  /** The input time up to which every table of this graph has been written (0 for a fresh store). */
  async writtenUpTo(): Promise<number> {
    const times = await this.driver.read((r) => r.lastUpdates(this.allTables))
    let min = Infinity
    for (const name of this.allTables) min = Math.min(min, times.get(name) ?? 0)
    return min === Infinity ? 0 : min
  }

  private async frontierReached(reads: SqlReads, tables: readonly string[], frontier: number) {
    const times = await reads.lastUpdates(tables)
    for (const name of tables) {
      const reached = times.get(name) ?? 0
      if (reached < frontier) return { ok: false as const, table: name, reached }
    }
    return { ok: true as const }
  }

  transaction<R>(time: Time, work: (tx: Transaction) => Promise<R>): Promise<R> {
    return this.runTransaction(time, work)
  }

  private async runTransaction<R>(time: Time, work: (tx: Transaction) => Promise<R>): Promise<R> {
    const deadline = Date.now() + this.frontierTimeoutMs
    const timeout = (table: string, reached: number): Error =>
      new FrontierTimeoutError(time.frontier, table, reached, this.frontierTimeoutMs)
    const waitFirst = time.frontier !== -1 && this.driver.waitsBeforeBegin
    try {
      for (;;) {
        // Waiting happens outside the mutex, so that another iteration of this process can
        // write the very time we wait for; inside, the frontier is checked again.
        if (waitFirst) {
          await waitUntil(this.driver, deadline, () => this.driver.read((r) => this.frontierReached(r, this.allTables, time.frontier)), timeout)
        }
        const outcome = await this.driver.mutex.run(() => this.attempt(time, work, deadline, timeout))
        if (outcome.done) return outcome.value
      }
    } catch (e) {
      if (time.inputTime !== -1) await this.releaseTime(time.inputTime)
      throw e
    }
  }

  /**
   * A failed iteration still passes its input time on (with no changes), so that the
   * writers waiting for it go on rather than time out; its batch must be re-run with a new time.
   */
  private async releaseTime(inputTime: number): Promise<void> {
    try {
      await this.driver.mutex.run(async () => {
        const tx = await this.driver.begin(false, false)
        try {
          await tx.commit(this.allTables, inputTime, false)
        } catch (e) {
          await tx.rollback().catch(() => undefined)
          throw e
        }
      })
    } catch {
      // The database is unreachable; the original error is what the caller needs to see.
    }
  }

  private async attempt<R>(
    time: Time,
    work: (tx: Transaction) => Promise<R>,
    deadline: number,
    timeout: (table: string, reached: number) => Error,
  ): Promise<{ done: true; value: R } | { done: false }> {
    const timed = time.frontier !== -1
    const tx = await this.driver.begin(!timed, time.flushEverySet)
    try {
      if (timed && this.driver.waitsBeforeBegin) {
        const r = await this.frontierReached(tx.session, this.allTables, time.frontier)
        if (!r.ok) {
          await tx.rollback()
          if (Date.now() >= deadline) throw timeout(r.table, r.reached)
          return { done: false }
        }
      }
      // Per-table waits get the whole timeout from now: time spent queued behind this process's other iterations does not count.
      const run = new SqlIteration(this, tx, time, Math.max(deadline, Date.now() + this.frontierTimeoutMs), timeout)
      const value = await work(run.transaction())
      await run.finish()
      return { done: true, value }
    } catch (e) {
      await tx.rollback().catch(() => undefined)
      throw e
    }
  }

  /** @internal */
  tableFor(delay: Vertex): TableLayout {
    return this.table(delay)
  }

  /** @internal */
  get driverForWaits(): SqlDriver {
    return this.driver
  }

  /** @internal */
  get waitsPerTable(): boolean {
    return !this.driver.waitsBeforeBegin
  }

  /** @internal */
  checkReached(reads: SqlReads, table: string, frontier: number) {
    return this.frontierReached(reads, [table], frontier)
  }

  /** @internal */
  get tableNames(): readonly string[] {
    return this.allTables
  }

  // ---- cache reads: committed state, outside iterations

  private read<R>(work: (reads: SqlReads) => Promise<R>): Promise<R> {
    // SQLite's one connection may be inside an iteration's transaction: wait for it to end.
    return this.driver.readsShareTheTransaction
      ? this.driver.mutex.run(() => this.driver.read(work))
      : this.driver.read(work)
  }

  cacheReader<T>(delay: Vertex): CacheReader<T> {
    const table = this.table(delay)
    return {
      iter: (match?: Iterable<T>) => this.cacheIter<T>(table, match),
      iterByIndex: <K>(index: Index<T, K>, matchKeys?: Iterable<K>) => this.cacheIterByIndex<T, K>(table, index, matchKeys),
    }
  }

  private async *cacheIter<T>(table: TableLayout, match: Iterable<T> | undefined): AsyncGenerator<[T, number]> {
    if (match !== undefined) {
      const wanted = ZSet.from<T>([...match].map((v) => [v, 1] as const))
      if (wanted.isEmpty()) return
      const found = rowsToZSet<T>(await this.read((r) => r.rowsByIds(table, [...wanted.entries.keys()].map(idOf))))
      // In the order asked for, as the memory store does.
      for (const key of wanted.entries.keys()) {
        const e = found.entries.get(key)
        if (e) yield [e.value, e.weight]
      }
      return
    }
    let after: Buffer | undefined
    let limit = PAGE_FIRST
    for (;;) {
      const rows = await this.read((r) => r.rowsById(table, after, limit))
      for (const r of rows) yield [decodeCanonical(r.canonical) as T, r.weight]
      if (rows.length < limit) return
      after = rows[rows.length - 1]!.id
      limit = Math.min(limit * 4, PAGE_MAX)
    }
  }

  private async *cacheIterByIndex<T, K>(
    table: TableLayout,
    index: Index<T, K>,
    matchKeys: Iterable<K> | undefined,
  ): AsyncGenerator<[K, T, number]> {
    const column = table.keys.find((k) => k.index.id === index.id)
    if (!column) {
      // Not an index the table keeps: order the rows here, as the memory store does for such indexes.
      const all = rowsToZSet<T>(await this.read((r) => r.allRows(table)))
      yield* all.iterByIndex(index, matchKeys)
      return
    }
    if (matchKeys !== undefined) {
      const keys = [...new Set([...matchKeys].map((k) => index.encodeKey(k)))].map(keyToBuffer)
      if (keys.length === 0) return
      const rows = await this.read((r) => r.rowsByKeys(table, column, keys))
      for (const r of rows) {
        const value = decodeCanonical(r.canonical) as T
        yield [index.key(value), value, r.weight]
      }
      return
    }
    for await (const r of orderedRows((after, limit) => this.read((reads) => reads.rowsInOrder(table, column, after, limit)))) {
      const value = decodeCanonical(r.canonical) as T
      yield [index.key(value), value, r.weight]
    }
  }

  private closing: Promise<void> | undefined

  /** Close the connection (a pool or database given by the caller stays open); closing twice is harmless. */
  close(): Promise<void> {
    // Let a running iteration finish first.
    this.closing ??= this.driver.mutex.run(async () => undefined).then(() => this.driver.close())
    return this.closing
  }
}

/** One iteration on a SQL store: readers that wait for the frontier, writes, per-set flushing. */
class SqlIteration {
  private readonly ready = new Map<string, Promise<void>>()
  private readonly marked = new Set<string>()

  constructor(
    private readonly store: SqlStore,
    private readonly tx: SqlTransaction,
    private readonly time: Time,
    private readonly deadline: number,
    private readonly timeout: (table: string, reached: number) => Error,
  ) {}

  /** PostgreSQL: the first read of a table waits until it has been written up to the frontier. */
  private waitFor(table: TableLayout): Promise<void> {
    if (this.time.frontier === -1 || !this.store.waitsPerTable) return Promise.resolve()
    let p = this.ready.get(table.name)
    if (!p) {
      p = waitUntil(this.store.driverForWaits, this.deadline, () => this.store.checkReached(this.tx.session, table.name, this.time.frontier), this.timeout)
      this.ready.set(table.name, p)
    }
    return p
  }

  transaction(): Transaction {
    return {
      reader: <T>(delay: Vertex) => {
        const table = this.store.tableFor(delay)
        return new SqlStateReader<T>(table, this.tx.session, () => this.waitFor(table))
      },
      addDelta: async (delay, delta) => {
        const table = this.store.tableFor(delay)
        await this.tx.session.upsert(table, encodeRows(table, delta as ZSet<unknown>))
        await this.afterWrite(table)
      },
      replace: async (delay, value) => {
        const table = this.store.tableFor(delay)
        await this.tx.session.clear(table)
        await this.tx.session.upsert(table, encodeRows(table, value as ZSet<unknown>))
        await this.afterWrite(table)
      },
    }
  }

  /** With `flushEverySet`, each delay's write is committed (and its time marked) at once, as stepping does. */
  private async afterWrite(table: TableLayout): Promise<void> {
    if (!this.time.flushEverySet || table.inFixedPoint) return
    const marks = this.time.inputTime === -1 ? [] : [table.name]
    await this.tx.commit(marks, this.time.inputTime === -1 ? undefined : this.time.inputTime, true)
    for (const m of marks) this.marked.add(m)
  }

  async finish(): Promise<void> {
    const marks = this.time.inputTime === -1 ? [] : this.store.tableNames.filter((n) => !this.marked.has(n))
    await this.tx.commit(marks, this.time.inputTime === -1 ? undefined : this.time.inputTime, false)
  }
}

/** Reads of one delay's state inside an iteration: each call is one query. */
class SqlStateReader<T> implements StateReader<T> {
  constructor(
    private readonly table: TableLayout,
    private readonly session: SqlReads,
    private readonly ready: () => Promise<void>,
  ) {}

  private column(index: Index<T, unknown>): KeyColumn | undefined {
    return this.table.keys.find((k) => k.index.id === index.id)
  }

  async lookup(index: Index<T, unknown>, encodedKeys: readonly string[]): Promise<ZSet<T>> {
    if (encodedKeys.length === 0) return new ZSet<T>()
    await this.ready()
    const column = this.column(index)
    if (!column) {
      // An index the table does not keep: filter the whole state, as the memory store does.
      const wanted = new Set(encodedKeys)
      return rowsToZSet<T>(await this.session.allRows(this.table), (v) => wanted.has(index.encodeKey(index.key(v))))
    }
    return rowsToZSet<T>(await this.session.rowsByKeys(this.table, column, encodedKeys.map(keyToBuffer)))
  }

  async lookupRows(rows: ZSet<T>): Promise<ZSet<T>> {
    if (rows.isEmpty()) return new ZSet<T>()
    await this.ready()
    return rowsToZSet<T>(await this.session.rowsByIds(this.table, [...rows.entries.keys()].map(idOf)))
  }

  async *scan(index: Index<T, unknown>): AsyncIterable<ScanRow<T>> {
    await this.ready()
    const column = this.column(index)
    if (!column) {
      yield* ZSetView.of(rowsToZSet<T>(await this.session.allRows(this.table))).scan(index)
      return
    }
    for await (const r of orderedRows((after, limit) => this.session.rowsInOrder(this.table, column, after, limit))) {
      // The tie is the identity hash in hex: hex order is the bytes' order.
      yield { keyEnc: keyFromBuffer(r.key), tie: r.id.toString('hex'), value: decodeCanonical(r.canonical) as T, weight: r.weight }
    }
  }

  async readAll(): Promise<ZSet<T>> {
    await this.ready()
    return rowsToZSet<T>(await this.session.allRows(this.table))
  }
}
