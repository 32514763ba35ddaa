/**
 * An iteration's writes on PostgreSQL, sent to the server together. The circuit's state
 * changes (paper §4: each delay's integral, `state += Δ`) reach the store one delay at
 * a time; each would be a round trip, and at one input row per iteration those round
 * trips are most of the time. So upserts and log appends wait in a queue and go as one
 * statement of data-modifying CTEs (one per write, each on its own table) when the
 * transaction commits, or first reads or deletes rows of a table they write; the
 * commit's marking of the input time rides in the same statement.
 *
 * The statements are the ones a write would make alone: rows added by `ON CONFLICT ...
 * DO UPDATE`, retractions that reach zero deleted by the same statement, and rows that
 * still come back at weight 0 (another writer's concurrent insert) deleted after it.
 */
import { createHash } from 'node:crypto'
import type pg from 'pg'
import type { EncodedRow, NewChunk, TableLayout } from './sql.js'

/** Rows per INSERT: large enough to amortise a round trip, small enough to keep messages modest. */
export const ROWS_PER_STATEMENT = 5000

/** Writes sent in one statement at most (a bound on the statements a connection prepares). */
const WRITES_PER_STATEMENT = 16

export interface Queryable {
  query(config: pg.QueryConfig): Promise<pg.QueryResult<any>>
}

const statementNames = new Map<string, string>()

function statementName(text: string): string {
  let name = statementNames.get(text)
  if (name === undefined) {
    name = 'st_' + createHash('sha256').update(text).digest('hex').slice(0, 24)
    if (statementNames.size < 10_000) statementNames.set(text, name)
  }
  return name
}

/** Run `text` as a named prepared statement: parsed once per connection, values always bound. */
export function run<R = any>(on: Queryable, text: string, values: unknown[] = []): Promise<{ rows: R[] }> {
  return on.query({ name: statementName(text), text, values })
}

/**
 * Run `text` planned for these very values (an unnamed statement; values still bound). For
 * reads and deletes of a list of keys or rows: a named statement soon settles on one generic
 * plan, made while the tables were small and never revisited as they grow, and that plan (a
 * sequential scan testing every row against every key) made each lookup cost rows × keys.
 */
export function planned<R = any>(on: Queryable, text: string, values: unknown[]): Promise<{ rows: R[] }> {
  return on.query({ text, values })
}

/** Primary key: (first key, id), so that reads by the first key need no second index; id without keys. */
export function primaryKey(table: TableLayout): string {
  return table.keys.length > 0 ? `${table.keys[0]!.column}, id` : 'id'
}

/** A write waiting in the queue: its CTEs, named after `tag` with parameters from `$first`, and its values. */
interface QueuedWrite {
  readonly table: TableLayout
  /** Which statement text it makes: equal signatures, equal texts. */
  readonly signature: string
  readonly parameters: number
  readonly values: unknown[]
  /** Its CTEs, and a query of the rows it left at weight 0 (`k0`, `id`), if it can leave any. */
  sql(tag: string, first: number): { ctes: string; emptied?: string }
}

function upsertWrite(table: TableLayout, rows: readonly EncodedRow[]): QueuedWrite {
  const keyed = table.keys.length > 0
  const pk = primaryKey(table)
  const pkColumns = pk.split(', ')
  const columns = [...table.keys.map((k) => k.column), 'id', 'val', 'weight']
  const types = [...table.keys.map(() => 'bytea[]'), 'bytea[]', 'text[]', 'int8[]']
  // A batch with retractions (a group's old row, a cache's old value) mostly takes rows to zero: those
  // are deleted by the same statement and not inserted. Batches of insertions alone skip the extra join.
  const retracts = rows.some((r) => r.weight < 0)
  const values: unknown[] = table.keys.map((_, k) => rows.map((r) => r.keys[k]!))
  values.push(
    rows.map((r) => r.id!),
    rows.map((r) => r.text),
    rows.map((r) => r.weight),
  )
  return {
    table,
    signature: `${retracts ? 'upsert-' : 'upsert+'} ${table.name}`,
    parameters: types.length,
    values,
    sql(tag, first) {
      const unnested = `unnest(${types.map((t, i) => `$${first + i}::${t}`).join(', ')})`
      const matches = (a: string, b: string) => pkColumns.map((c) => `${a}.${c} = ${b}.${c}`).join(' AND ')
      // Rows arrive in primary-key order, so concurrent writers lock shared rows in the same order.
      const upsertFrom = (source: string) =>
        `${tag}_changed AS (INSERT INTO ${table.name} AS s (${columns.join(', ')}) ${source} ` +
        `ON CONFLICT (${pk}) DO UPDATE SET weight = s.weight + excluded.weight RETURNING ${keyed ? `${table.keys[0]!.column} AS k0, ` : ''}id, weight)`
      const ctes = retracts
        ? `${tag}_input AS (SELECT * FROM ${unnested} AS i (${columns.join(', ')})), ` +
          `${tag}_emptied AS (DELETE FROM ${table.name} AS t USING ${tag}_input AS input WHERE ${matches('t', 'input')} AND t.weight + input.weight = 0 ` +
          `RETURNING ${pkColumns.map((c) => `t.${c}`).join(', ')}), ` +
          upsertFrom(`SELECT * FROM ${tag}_input AS input WHERE NOT EXISTS (SELECT 1 FROM ${tag}_emptied AS emptied WHERE ${matches('emptied', 'input')})`)
        : upsertFrom(`SELECT * FROM ${unnested}`)
      return { ctes, emptied: `SELECT ${keyed ? 'k0' : 'NULL::bytea'}, id FROM ${tag}_changed WHERE weight = 0` }
    },
  }
}

function appendWrite(table: TableLayout, chunks: readonly NewChunk[]): QueuedWrite {
  const c = table.keys[0]!.column
  // One key (one meter's batch): plain parameters, which pg sends as they are (array elements are escaped).
  const one = chunks.length === 1
  return {
    table,
    signature: `${one ? 'append1' : 'append'} ${table.name}`,
    parameters: 2,
    values: one ? [chunks[0]!.k0, chunks[0]!.rows] : [chunks.map((x) => x.k0), chunks.map((x) => x.rows)],
    // n comes from the table's identity sequence: newer than every chunk, whoever writes.
    sql: (tag, first) => ({
      ctes: one
        ? `${tag} AS (INSERT INTO ${table.name} (${c}, rows) VALUES ($${first}::bytea, $${first + 1}::text))`
        : `${tag} AS (INSERT INTO ${table.name} (${c}, rows) SELECT * FROM unnest($${first}::bytea[], $${first + 1}::text[]))`,
    }),
  }
}

/** The commit's marking of its input time, and the NOTIFY that wakes the writers waiting for it (delivered at COMMIT). */
export interface TimeMark {
  lastUpdateTable: string
  channel: string
  time: number
  /** Table names, sorted. */
  tables: readonly string[]
}

/** The queue of one transaction's writes. */
export class WriteQueue {
  private queued: QueuedWrite[] = []

  /**
   * `texts`: statement texts by the signatures of their writes (and mark), kept by the store:
   * a queue lives one transaction, a text as long as the store's layout (signatures name tables, not their columns).
   */
  constructor(
    private readonly on: Queryable,
    private readonly texts: Map<string, string> = new Map(),
  ) {}

  /** state += rows (rows whose weight becomes 0 are deleted), sent at the commit or before a read of the table. */
  async upsert(table: TableLayout, rows: readonly EncodedRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) await this.add(upsertWrite(table, rows.slice(i, i + ROWS_PER_STATEMENT)))
  }

  /** A log table: append chunks, sent at the commit or before a read of the table. */
  async appendChunks(table: TableLayout, chunks: readonly NewChunk[]): Promise<void> {
    for (let i = 0; i < chunks.length; i += ROWS_PER_STATEMENT) await this.add(appendWrite(table, chunks.slice(i, i + ROWS_PER_STATEMENT)))
  }

  private async add(write: QueuedWrite): Promise<void> {
    // One statement never writes a table twice: its CTEs all see the table as it was before it.
    if (this.queued.length >= WRITES_PER_STATEMENT || this.waitsFor(write.table)) await this.flush()
    this.queued.push(write)
  }

  private waitsFor(table: TableLayout): boolean {
    return this.queued.some((w) => w.table.name === table.name)
  }

  /** Send the queued writes if one of them is to `table` (before a statement that reads or deletes its rows). */
  async flushFor(table: TableLayout): Promise<void> {
    if (this.waitsFor(table)) await this.flush()
  }

  /** Forget the queued writes (the transaction is rolled back). */
  discard(): void {
    this.queued = []
  }

  /** Send the queued writes (and `mark`, when given) as one statement. */
  async flush(mark?: TimeMark): Promise<void> {
    const writes = this.queued
    if (writes.length === 0 && mark === undefined) return
    this.queued = []
    const signature = writes.map((w) => w.signature).join('\n') + (mark ? `\nmark ${mark.lastUpdateTable} ${mark.channel}` : '')
    let text = this.texts.get(signature)
    if (text === undefined) {
      text = statementOf(writes, mark)
      if (this.texts.size < 10_000) this.texts.set(signature, text)
    }
    const values = writes.flatMap((w) => w.values)
    if (mark) values.push(mark.time, mark.tables, mark.channel)
    const result = await run<{ w: number; k0: Buffer | null; id: Buffer }>(this.on, text, values)
    for (let i = 0; i < writes.length; i++) {
      const emptied = result.rows.filter((r) => r.w === i)
      if (emptied.length > 0) await this.deleteEmptied(writes[i]!.table, emptied)
    }
  }

  /** Rows a concurrent writer's insert took to 0 after this statement's snapshot. */
  private async deleteEmptied(table: TableLayout, emptied: { k0: Buffer | null; id: Buffer }[]): Promise<void> {
    if (table.keys.length > 0) {
      await planned(this.on, `DELETE FROM ${table.name} WHERE (${primaryKey(table)}) IN (SELECT * FROM unnest($1::bytea[], $2::bytea[])) AND weight = 0`, [
        emptied.map((e) => e.k0!),
        emptied.map((e) => e.id),
      ])
    } else {
      await planned(this.on, `DELETE FROM ${table.name} WHERE id = ANY($1::bytea[]) AND weight = 0`, [emptied.map((e) => e.id)])
    }
  }
}

/** One statement: every write's CTEs, then the rows they left at weight 0, each with its write's place (`w`). */
function statementOf(writes: readonly QueuedWrite[], mark: TimeMark | undefined): string {
  const ctes: string[] = []
  const results: string[] = []
  let next = 1
  writes.forEach((w, i) => {
    const { ctes: c, emptied } = w.sql(`w${i}`, next)
    next += w.parameters
    ctes.push(c)
    if (emptied !== undefined) results.push(`SELECT ${i} AS w, e.* FROM (${emptied}) AS e (k0, id)`)
  })
  if (mark) {
    const [time, tables, channel] = [next, next + 1, next + 2]
    ctes.push(`marked AS (UPDATE ${mark.lastUpdateTable} SET t = GREATEST(t, $${time}::bigint) WHERE table_name = ANY($${tables}::text[]) RETURNING 1)`)
    // A branch of the UNION is always run; its one row (w = -1) belongs to no write.
    results.push(`SELECT -1 AS w, NULL::bytea AS k0, NULL::bytea AS id FROM (SELECT pg_notify($${channel}, $${time}::text)) AS n`)
  }
  if (results.length === 0) results.push('SELECT -1 AS w, NULL::bytea AS k0, NULL::bytea AS id WHERE false')
  return `WITH ${ctes.join(', ')} ${results.join(' UNION ALL ')}`
}
