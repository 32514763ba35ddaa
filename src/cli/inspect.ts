/**
 * `stepping inspect <sqlite-file|postgres-url>`: what a SQL store holds, read
 * without the graph that wrote it. Each graph in the database is found by its
 * metadata table (`<prefix>_graph`: fingerprint and vertex description, see
 * src/stores/sql.ts); its state tables are the ones `<prefix>_last_update`
 * lists. For each: the delay vertex it belongs to, row count, size on disk,
 * the input time it has been written up to and how it stores rows (one table
 * row each, or a log of chunks: its `rows` column). Nothing is written.
 */
import { createHash } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import Database from 'better-sqlite3'
import pg from 'pg'
import { MAX_NAMES } from '../stores/names.js'
import { CliError, errorLine } from './errors.js'
import { formatBytes, formatCount, renderTable } from './format.js'

interface StateTable {
  readonly name: string
  /** Input time the table has been written up to (the time protocol's mark). */
  readonly writtenUpTo: number
  /** ZSet rows stored (in a log: rows in its chunks, before merging cancels any). */
  readonly rows: number
  /** A log's table rows (chunks); undefined for one table row per ZSet row. */
  readonly chunks: number | undefined
  /** Bytes of the table and its indexes; undefined when the database cannot tell. */
  readonly bytes: number | undefined
}

/** Rows in a log's chunks: each chunk's rows are separated by character 30 (src/stores/sql.ts, "logs"). */
const CHUNK_COUNTS = (chr: string) => `count(*) AS chunks, coalesce(sum(length(rows) - length(replace(rows, ${chr}(30), '')) + 1), 0) AS n`

interface GraphTables {
  readonly prefix: string
  readonly fingerprint: string
  /** One line per vertex, as the store recorded it. */
  readonly description: readonly string[]
  readonly tables: readonly StateTable[]
  /** Rows of the field-name dictionary (`<prefix>_names`, src/stores/names.ts), when there is one. */
  readonly names?: number
}

interface DatabaseContents {
  /** e.g. "SQLite database demo.db (12.0 MiB)". */
  readonly title: string
  readonly graphs: readonly GraphTables[]
}

const META_SUFFIX = '_graph'
const LAST_UPDATE_SUFFIX = '_last_update'
const NAMES_SUFFIX = '_names'

/** The delay vertex paths in a stored description (lines are `path: kind value ...`). */
function delayPaths(description: readonly string[]): string[] {
  const out: string[] = []
  for (const line of description) {
    const at = line.indexOf(': ')
    if (at > 0 && line.slice(at + 2).startsWith('delay ')) out.push(line.slice(0, at))
  }
  return out
}

/** Delays without a table of their own (src/graph/sharedState.ts, transientState.ts), from the stored description. */
function tablelessDelays(description: readonly string[], withTables: ReadonlySet<string>): string[] {
  const maps: Record<string, string> = { support: 'its rows of positive weight, each once', groupTotals: 'each group\'s totals as (sum, key)' }
  const out: string[] = []
  for (const line of description) {
    const at = line.indexOf(': ')
    if (at < 0 || !line.slice(at + 2).startsWith('delay ')) continue
    const params = /\[([^\]]*)\]$/.exec(line)?.[1]?.split(' ') ?? []
    const of = params.find((p) => p.startsWith('stateOf='))?.slice('stateOf='.length)
    const map = params.find((p) => p.startsWith('stateMap='))?.slice('stateMap='.length)
    const path = line.slice(0, at)
    if (of !== undefined) out.push(`${path}: reads ${of}${map ? `, ${maps[map] ?? map}` : ''}`)
    else if (params.includes('transient')) out.push(`${path}: kept in memory during a fixed point's run (empty between runs)`)
    else if (!withTables.has(path)) out.push(`${path}: shares the table of another integral of the same stream`)
  }
  return out
}

/**
 * The vertex a state table belongs to: table names end in the first 8 hex
 * digits of the SHA-256 of the delay's path (src/stores/sql.ts `layoutFor`).
 */
function vertexOfTable(table: string, description: readonly string[]): string | undefined {
  for (const path of delayPaths(description)) {
    const suffix = '_' + createHash('sha256').update(path).digest('hex').slice(0, 8)
    if (table.endsWith(suffix)) return path
  }
  return undefined
}

function parseDescription(json: string | undefined): string[] {
  if (json === undefined) return []
  try {
    const parsed: unknown = JSON.parse(json)
    return Array.isArray(parsed) ? parsed.filter((l): l is string => typeof l === 'string') : []
  } catch {
    return []
  }
}

// ---------------------------------------------------------------- SQLite

function quoteSqlite(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"'
}

function readSqlite(file: string): DatabaseContents {
  if (!existsSync(file)) throw new CliError(`no such file: ${file}`)
  let db: Database.Database
  try {
    db = new Database(file, { readonly: true, fileMustExist: true })
  } catch (e) {
    throw new CliError(`cannot open ${file}: ${errorLine(e)}`)
  }
  try {
    let tableNames: string[]
    try {
      tableNames = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name)
    } catch (e) {
      throw new CliError(`${file} is not a SQLite database (${errorLine(e)})`)
    }
    const existing = new Set(tableNames)
    // Bytes per table including its indexes; dbstat is compiled into better-sqlite3's SQLite.
    const sizes = new Map<string, number>()
    try {
      const rows = db
        .prepare(`SELECT m.tbl_name AS name, SUM(s.pgsize) AS bytes FROM dbstat s JOIN sqlite_master m ON m.name = s.name GROUP BY m.tbl_name`)
        .all() as { name: string; bytes: number }[]
      for (const r of rows) sizes.set(r.name, r.bytes)
    } catch {
      // No dbstat: sizes are left out.
    }
    const graphs: GraphTables[] = []
    for (const meta of tableNames.filter((n) => n.endsWith(META_SUFFIX)).sort()) {
      const prefix = meta.slice(0, -META_SUFFIX.length)
      const lastUpdate = prefix + LAST_UPDATE_SUFFIX
      if (!existing.has(lastUpdate)) continue
      let stored: Map<string, string>
      try {
        const rows = db.prepare(`SELECT name, value FROM ${quoteSqlite(meta)}`).all() as { name: string; value: string }[]
        stored = new Map(rows.map((r) => [r.name, r.value]))
      } catch {
        continue // a table that merely ends in _graph
      }
      const fingerprint = stored.get('fingerprint')
      if (fingerprint === undefined) continue
      const marks = db.prepare(`SELECT table_name, t FROM ${quoteSqlite(lastUpdate)} ORDER BY table_name`).all() as {
        table_name: string
        t: number
      }[]
      const tables = marks
        .filter((m) => existing.has(m.table_name))
        .map((m) => {
          const name = quoteSqlite(m.table_name)
          const log = db.prepare(`SELECT 1 FROM pragma_table_info(?) WHERE name = 'rows'`).get(m.table_name) !== undefined
          const counts = db.prepare(`SELECT ${log ? CHUNK_COUNTS('char') : 'count(*) AS n'} FROM ${name}`).get() as { n: number; chunks?: number }
          return { name: m.table_name, writtenUpTo: Number(m.t), rows: counts.n, chunks: counts.chunks, bytes: sizes.get(m.table_name) }
        })
      const namesTable = prefix + NAMES_SUFFIX
      const names = existing.has(namesTable) ? (db.prepare(`SELECT count(*) AS n FROM ${quoteSqlite(namesTable)}`).get() as { n: number }).n : undefined
      graphs.push({ prefix, fingerprint, description: parseDescription(stored.get('description')), tables, names })
    }
    return { title: `SQLite database ${file} (${formatBytes(statSync(file).size)})`, graphs }
  } finally {
    db.close()
  }
}

// ---------------------------------------------------------------- PostgreSQL

export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target)
}

async function readPostgres(url: string): Promise<DatabaseContents> {
  const client = new pg.Client({ connectionString: url })
  // A connection that drops mid-inspect surfaces as a failed query, not a crash.
  client.on('error', () => undefined)
  const shown = new URL(url)
  if (shown.password) shown.password = '***'
  try {
    await client.connect()
  } catch (e) {
    throw new CliError(`cannot connect to ${shown.toString()}: ${errorLine(e)}`)
  }
  try {
    const ident = (name: string) => client.escapeIdentifier(name)
    const { rows: tableRows } = await client.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
    )
    const existing = new Set(tableRows.map((r) => r.name))
    const graphs: GraphTables[] = []
    for (const meta of [...existing].filter((n) => n.endsWith(META_SUFFIX)).sort()) {
      const prefix = meta.slice(0, -META_SUFFIX.length)
      const lastUpdate = prefix + LAST_UPDATE_SUFFIX
      if (!existing.has(lastUpdate)) continue
      let stored: Map<string, string>
      try {
        const { rows } = await client.query<{ name: string; value: string }>(`SELECT name, value FROM ${ident(meta)}`)
        stored = new Map(rows.map((r) => [r.name, r.value]))
      } catch {
        continue // a table that merely ends in _graph
      }
      const fingerprint = stored.get('fingerprint')
      if (fingerprint === undefined) continue
      const { rows: marks } = await client.query<{ table_name: string; t: string }>(
        `SELECT table_name, t FROM ${ident(lastUpdate)} ORDER BY table_name`,
      )
      const tables: StateTable[] = []
      for (const m of marks.filter((mark) => existing.has(mark.table_name))) {
        const { rows: columns } = await client.query(
          `SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'rows'`,
          [m.table_name],
        )
        const log = columns.length > 0
        const { rows } = await client.query<{ n: string; chunks?: string; bytes: string }>(
          `SELECT c.*, pg_total_relation_size($1::regclass) AS bytes FROM (SELECT ${log ? CHUNK_COUNTS('chr') : 'count(*) AS n'} FROM ${ident(m.table_name)}) AS c`,
          [ident(m.table_name)],
        )
        const r = rows[0]!
        tables.push({
          name: m.table_name,
          writtenUpTo: Number(m.t),
          rows: Number(r.n),
          chunks: r.chunks === undefined ? undefined : Number(r.chunks),
          bytes: Number(r.bytes),
        })
      }
      const namesTable = prefix + NAMES_SUFFIX
      const names = existing.has(namesTable) ? Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${ident(namesTable)}`)).rows[0]!.n) : undefined
      graphs.push({ prefix, fingerprint, description: parseDescription(stored.get('description')), tables, names })
    }
    const { rows: db } = await client.query<{ name: string; schema: string; bytes: string }>(
      `SELECT current_database() AS name, current_schema() AS schema, pg_database_size(current_database()) AS bytes`,
    )
    return {
      title: `PostgreSQL database ${db[0]!.name}, schema ${db[0]!.schema} (${formatBytes(Number(db[0]!.bytes))})`,
      graphs,
    }
  } finally {
    await client.end().catch(() => undefined)
  }
}

// ---------------------------------------------------------------- report

function report(contents: DatabaseContents, target: string): string {
  if (contents.graphs.length === 0) throw new CliError(`${target} holds no stepping tables`)
  const out: string[] = [contents.title]
  for (const g of contents.graphs) {
    const delays = delayPaths(g.description).length
    out.push('')
    out.push(`graph with table prefix "${g.prefix}"`)
    out.push(`  fingerprint: ${g.fingerprint}`)
    out.push(`  vertices: ${formatCount(g.description.length)}, delays: ${formatCount(delays)}, delay tables: ${formatCount(g.tables.length)}`)
    out.push('')
    const rows = g.tables.map((t) => [
      t.name,
      vertexOfTable(t.name, g.description) ?? '?',
      formatCount(t.rows),
      t.bytes === undefined ? '?' : formatBytes(t.bytes),
      formatCount(t.writtenUpTo),
      t.chunks === undefined ? 'rows' : `log of ${formatCount(t.chunks)} chunks`,
    ])
    const known = g.tables.filter((t) => t.bytes !== undefined)
    rows.push([
      'total',
      '',
      formatCount(g.tables.reduce((n, t) => n + t.rows, 0)),
      known.length ? formatBytes(known.reduce((n, t) => n + t.bytes!, 0)) : '?',
      '',
      '',
    ])
    const table = renderTable(
      [
        { title: 'delay table' },
        { title: 'vertex' },
        { title: 'rows', align: 'right' },
        { title: 'size', align: 'right' },
        { title: 'written up to', align: 'right' },
        { title: 'stored as' },
      ],
      rows,
    )
    out.push(...table.split('\n').map((l) => '  ' + l))
    if (g.names !== undefined) {
      // A full dictionary keeps further names in every row: worth knowing when rows are larger than expected.
      const full = g.names >= MAX_NAMES ? ': full, further field names are stored in full' : ''
      out.push('', `  field names: ${formatCount(g.names)} of ${formatCount(MAX_NAMES)} in ${g.prefix}${NAMES_SUFFIX}${full}`)
    }
    const tableless = tablelessDelays(g.description, new Set(g.tables.map((t) => vertexOfTable(t.name, g.description) ?? '')))
    if (tableless.length > 0) {
      out.push('', '  delays without a table of their own:')
      for (const line of tableless) out.push('    ' + line)
    }
  }
  return out.join('\n')
}

export async function runInspect(target: string, print: (text: string) => void): Promise<void> {
  const contents = isPostgresUrl(target) ? await readPostgres(target) : readSqlite(target)
  print(report(contents, target))
}
