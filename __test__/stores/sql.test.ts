/**
 * What both SQL stores must do beyond the behaviour suite: refuse tables made
 * by another graph (saying what differs and how to rebuild) and reopen their
 * own; name tables deterministically; keep values out of SQL text; read in
 * batches (one statement per delay read, however many rows) and stop ordered
 * scans early; run the time protocol (a clear timeout naming the frontier;
 * a failed timed iteration does not hold up the next).
 */
import { createHash } from 'node:crypto'
import test, { type ExecutionContext } from 'ava'
import Database from 'better-sqlite3'
import pg from 'pg'
import * as st from '../../src/index.js'
import type { SqlStore } from '../../src/stores/sql.js'
import { freshPostgresUrl, dropPostgresDatabase } from '../helpers/postgres.js'
import { freshSqlitePath } from '../helpers/sqlite.js'
import { type Read, meterReadsQuery, allState } from './fixtures/meterReads.js'

// Only matters for a server given by STEPPING_PG_URL: an embedded one is thrown away whole.
test.after.always('drop this process’s PostgreSQL database', () => dropPostgresDatabase())

const KINDS = ['sqlite', 'postgres'] as const
type Kind = (typeof KINDS)[number]

/** A place for a store, and a way to open stores there that logs every SQL statement they run. */
async function place(kind: Kind) {
  const target = kind === 'sqlite' ? freshSqlitePath() : await freshPostgresUrl()
  /** Statements as run (SQLite logs them with values filled in). */
  const statements: string[] = []
  /** SQL texts as sent to the database, before any values are bound. */
  const sources: string[] = []
  const closers: (() => Promise<void>)[] = []
  const open = async (graph: st.Graph<any, any>, options: st.SqlStoreOptions = {}): Promise<SqlStore> => {
    if (kind === 'sqlite') {
      const db = new Database(target, { verbose: (sql) => statements.push(String(sql)) })
      const prepare = db.prepare.bind(db)
      const exec = db.exec.bind(db)
      db.prepare = ((sql: string) => (sources.push(sql), prepare(sql))) as typeof db.prepare
      db.exec = ((sql: string) => (sources.push(sql), exec(sql))) as typeof db.exec
      closers.push(async () => void db.close())
      return st.sqliteStore(db, graph, options)
    }
    const pool = new pg.Pool({ connectionString: target })
    pool.on('error', () => undefined)
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown
      ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const first = args[0] as string | { text: string }
        statements.push(typeof first === 'string' ? first : first.text)
        sources.push(typeof first === 'string' ? first : first.text)
        return query(...args)
      }
    })
    closers.push(() => pool.end())
    return st.postgresStore(pool, graph, options)
  }
  const closeAll = async () => {
    for (const c of closers.reverse()) await c()
  }
  return { target, statements, sources, open, closeAll }
}

async function withPlace(t: ExecutionContext, kind: Kind, body: (p: Awaited<ReturnType<typeof place>>) => Promise<void>) {
  const p = await place(kind)
  try {
    await body(p)
  } finally {
    await p.closeAll()
  }
}

const counter = st.cache<{ name: string; n: number }>()
function counterGraph(extra: boolean) {
  return st.compile([st.input<string>()], (names) => {
    const counts = st.groupReduceFlatten(names, { by: st.index.identity<string>(), zero: () => 0, pick: () => 1 })
    const rows = st.map(counts, (p) => ({ name: p.right, n: p.left }))
    counter.integrateIndexed(extra ? st.filter(rows, (r) => r.n > 1) : rows, [st.index<{ name: string; n: number }>((r) => r.name)])
    return rows
  })
}

type Counted = { name: string; n: number }
const byName = st.index<Counted>((r) => r.name)
const byCount = st.index<Counted>((r) => r.n)
const wide = st.cache<Counted>()
/** Delays with no index, one and two; integrals of one stream (`names`, `rows`) in several places. */
function layoutGraph() {
  return st.compile([st.input<string>()], (names) => {
    const counts = st.groupReduceFlatten(names, { by: st.index.identity<string>(), zero: () => 0, pick: () => 1 })
    const rows = st.map(counts, (p): Counted => ({ name: p.right, n: p.left }))
    wide.integrateIndexed(rows, [byName, byCount])
    const withCounts = st.join(names, rows, { onLeft: st.index.identity<string>(), onRight: byName })
    const seen = st.join(names, st.distinct(names), { onLeft: st.index.identity<string>(), onRight: st.index.identity<string>() })
    const lengths = st.delay(st.map(names, (n) => n.length))
    const sized = st.join(st.map(names, (name) => ({ name, size: name.length })), rows, { onLeft: st.index<{ name: string }>((r) => r.name), onRight: byName })
    const all = st.add(st.add(st.map(withCounts, (p) => p.left), st.map(seen, (p) => p.left)), st.map(lengths, (n) => `${n}`))
    return st.add(all, st.map(sized, (p) => p.left.name))
  })
}

type Tied = { g: number; n: number }
const byGroup = st.index<Tied>((r) => r.g)
const tied = st.cache<Tied>()
/** Many rows per key: a cache read in order, and firstN scanning its state. */
function tiesGraph() {
  return st.compile([st.input<Tied>()], (s) => {
    tied.integrateIndexed(s, [byGroup])
    return st.firstN(s, { index: byGroup, n: 150 })
  })
}

const canonicalRows = (z: st.ZSet<unknown>) => [...z.iter()].map(([v, w]) => [st.canonical(v), w]).sort()

for (const kind of KINDS) {
  test(`${kind}: tables made by another graph are refused with what differs and how to rebuild; the same graph reopens`, async (t) => {
    await withPlace(t, kind, async ({ open }) => {
      const first = await open(counterGraph(false), { createTables: true })
      // A second compile of the same build function opens the same tables.
      const graph = counterGraph(false)
      const again = await open(graph, { createTables: false })
      await st.actions(again, graph)[0].insert('ann', 'bob', 'ann')
      await first.close()
      await again.close()

      const error = await t.throwsAsync(open(counterGraph(true), { createTables: true }), { instanceOf: st.StoreSchemaError })
      t.regex(error!.message, /made by a different graph/)
      t.regex(error!.message, /only in this graph: .*filter/)
      t.regex(error!.message, /changed: .*cache\/integrate_indexed\/add/)
      t.regex(error!.message, /drop the tables .*\{ createTables: true \}/)

      // Reopened with the same graph (compiled afresh), the state is still there.
      const graph2 = counterGraph(false)
      const reopened = await open(graph2)
      const rows: unknown[] = []
      for await (const [, row, w] of counter.zset(reopened).iterByIndex(st.index<{ name: string; n: number }>((r) => r.name))) rows.push([row, w])
      t.deepEqual(rows, [
        [{ name: 'ann', n: 2 }, 1],
        [{ name: 'bob', n: 1 }, 1],
      ])
      await reopened.close()
    })
  })

  test(`${kind}: opening without createTables where there are no tables says how to create them`, async (t) => {
    await withPlace(t, kind, async ({ open }) => {
      const error = await t.throwsAsync(open(counterGraph(false)), { instanceOf: st.StoreSchemaError })
      t.regex(error!.message, /no stepping tables.*createTables: true/)
    })
  })

  test(`${kind}: table names are deterministic, safe identifiers, one per delay (integrals of one stream share one), keyed by the first index`, async (t) => {
    await withPlace(t, kind, async ({ open }) => {
      const graph = layoutGraph()
      const a = await open(graph, { createTables: true })
      const names = graph.def.delays.map((d) => a.layout.byDelay.get(d)!.name)
      for (const n of names) t.regex(n, /^st_[a-z0-9_]+_[0-9a-f]{8}$/)
      t.is(new Set(names).size, a.layout.tables.length)
      // The same build function gives the same names, in any process.
      const other = await open(layoutGraph())
      t.deepEqual(other.layout.tables.map((x) => x.name), a.layout.tables.map((x) => x.name))
      await other.close()
      const shared = a.layout.tables.filter((x) => x.delays.length > 1)
      t.true(shared.length >= 2, 'the integrals of `names` and of `rows` are shared')
      t.true(shared.some((x) => x.keys.length === 2), 'a shared table keeps every index of its delays')
      t.true(a.layout.tables.some((x) => x.keys.length === 0))
      // Kept as a log: the join's integral of names' sizes, read by nothing but that join. Not: the integral of
      // names, which distinct also reads row by row; the cache; the group-reduce's per-group state.
      const logs = a.layout.tables.filter((x) => x.format === 'log')
      t.deepEqual(logs.map((x) => x.delays.map((d) => d.path)), [['join#3/integrate_indexed/delay']])
      // The join's integral of distinct(names) is the support of distinct's integral of names: it has that table.
      const seen = graph.def.delays.find((d) => d.path === 'join#2/integrate_delay_indexed/delay')!
      t.is(seen.params.stateMap, 'support')
      t.is(a.layout.byDelay.get(seen), a.layout.byDelay.get(graph.def.delays.find((d) => d.path === 'distinct/integrate_delay/delay')!))
      t.true(a.layout.tables.some((x) => x.format === 'rows' && x.delays.some((d) => d.path.startsWith('distinct/'))))
      for (const table of a.layout.tables) {
        const [first, ...rest] = table.keys
        if (table.format === 'log') {
          const column = first!.column
          if (kind === 'sqlite') {
            const sql = ((a as st.SqliteStore).db.prepare(`SELECT sql FROM sqlite_master WHERE name = ?`).get(table.name) as { sql: string }).sql
            t.regex(sql, new RegExp(`\\(${column} BLOB NOT NULL, n INTEGER NOT NULL, rows TEXT NOT NULL, PRIMARY KEY \\(${column}, n\\)\\) WITHOUT ROWID$`))
          } else {
            const indexes = (await (a as st.PostgresStore).pool.query(`SELECT indexdef AS sql FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1`, [table.name])).rows as { sql: string }[]
            t.deepEqual(indexes.map((i) => /\((.*)\)$/.exec(i.sql)![1]), [`${column}, n`])
          }
          continue
        }
        if (kind === 'sqlite') {
          const db = (a as st.SqliteStore).db
          const sql = (db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table.name) as { sql: string }).sql
          t.regex(sql, new RegExp(`PRIMARY KEY \\(${first ? `${first.column}, ` : ''}val\\)\\) WITHOUT ROWID$`))
          const indexes = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`).all(table.name) as { name: string; sql: string }[]
          t.deepEqual(indexes.map((i) => i.name).sort(), rest.map((k) => k.sqlIndex).sort())
          for (const k of rest) t.regex(indexes.find((i) => i.name === k.sqlIndex)!.sql, new RegExp(`\\(${k.column}\\)$`))
        } else {
          const pool = (a as st.PostgresStore).pool
          const indexes = (
            await pool.query(`SELECT indexname AS name, indexdef AS sql FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1`, [table.name])
          ).rows as { name: string; sql: string }[]
          t.is(indexes.length, 1 + rest.length)
          t.truthy(indexes.find((i) => i.name.endsWith('_pkey') && new RegExp(`\\(${first ? `${first.column}, ` : ''}id\\)`).test(i.sql)))
          for (const k of rest) t.regex(indexes.find((i) => i.name === k.sqlIndex)!.sql, new RegExp(`\\(${k.column}, id\\)`))
        }
      }
      await a.close()
    })
  })

  test(`${kind}: delays that share a table read and write what the memory store holds`, async (t) => {
    await withPlace(t, kind, async ({ open }) => {
      const graph = layoutGraph()
      const store = await open(graph, { createTables: true })
      const memory = st.memoryStore(graph)
      const batches = [['ann', 'bob', 'ann'], ['cy', 'bob'], ['ann', 'dee', 'cy', 'cy']]
      for (const b of batches) {
        const [got] = await st.actions(store, graph)[0].insert(...b)
        const [want] = await st.actions(memory, graph)[0].insert(...b)
        t.deepEqual(canonicalRows(got), canonicalRows(want))
      }
      // Removals empty rows of the shared tables as well.
      for (const s of [store, memory]) await st.actions(s, graph)[0].remove('ann', 'cy')
      t.deepEqual(await allState(store), await allState(memory))
      const read = async (s: st.Store) => {
        const rows: unknown[] = []
        for await (const [k, row, w] of wide.zset(s).iterByIndex(byCount)) rows.push([k, row, w])
        return rows
      }
      t.deepEqual(await read(store), await read(memory))
      // Looking up a row whose keys cannot be computed finds nothing, as in memory.
      for (const s of [store, memory]) {
        const found: unknown[] = []
        for await (const r of wide.zset(s).iter([{ name: 'bob' } as Counted, { name: 'bob', n: 2 }])) found.push(r)
        t.deepEqual(found, [[{ name: 'bob', n: 2 }, 1]])
      }
      await store.close()
    })
  })

  test(`${kind}: ordered reads give rows with equal keys in identity-hash order across pages, as in memory`, async (t) => {
    await withPlace(t, kind, async ({ open }) => {
      const graph = tiesGraph()
      const store = await open(graph, { createTables: true })
      const memory = st.memoryStore(graph)
      // 600 rows under 3 keys: every page boundary (64, then 256 rows) falls inside a key's rows.
      const rows = Array.from({ length: 600 }, (_, n): Tied => ({ g: n % 3, n }))
      for (const batch of [rows.slice(0, 300), rows.slice(300)]) {
        const [got] = await st.actions(store, graph)[0].insert(...batch)
        const [want] = await st.actions(memory, graph)[0].insert(...batch)
        t.deepEqual(canonicalRows(got), canonicalRows(want))
      }
      const read = async (s: st.Store, keys?: number[]) => {
        const out: unknown[] = []
        for await (const [k, row, w] of tied.zset(s).iterByIndex(byGroup, keys)) out.push([k, row.n, w])
        return out
      }
      t.deepEqual(await read(store), await read(memory))
      t.deepEqual(await read(store, [2, 0]), await read(memory, [2, 0]))
      await store.close()
    })
  })

  test(`${kind}: tables written by an older table layout are refused with a StoreSchemaError, not misread`, async (t) => {
    await withPlace(t, kind, async ({ open }) => {
      const graph = counterGraph(false)
      const store = await open(graph, { createTables: true })
      await st.actions(store, graph)[0].insert('ann')
      // What layout 1 recorded: no layout number, and a fingerprint of the description alone.
      const old = createHash('sha256').update(JSON.stringify(store.layout.description)).digest('hex').slice(0, 32)
      if (kind === 'sqlite') {
        const db = (store as st.SqliteStore).db
        db.prepare(`UPDATE st_graph SET value = ? WHERE name = 'fingerprint'`).run(old)
        db.prepare(`DELETE FROM st_graph WHERE name = 'layout'`).run()
      } else {
        const pool = (store as st.PostgresStore).pool
        await pool.query(`UPDATE st_graph SET value = $1 WHERE name = 'fingerprint'`, [old])
        await pool.query(`DELETE FROM st_graph WHERE name = 'layout'`)
      }
      await store.close()
      const error = await t.throwsAsync(open(counterGraph(false)), { instanceOf: st.StoreSchemaError })
      t.regex(error!.message, /table layout 1, and this version of stepping reads layout \d+ only/)
      t.regex(error!.message, /drop the tables \(st_graph, st_last_update, st_.*\{ createTables: true \}/)
    })
  })

  test(`${kind}: values are bound, never spliced: quotes, SQL, NUL and unicode round-trip`, async (t) => {
    await withPlace(t, kind, async ({ open, sources }) => {
      const graph = counterGraph(false)
      const store = await open(graph, { createTables: true })
      const nasty = [`'); DROP TABLE st_graph; --`, `"quoted" \\ back`, 'nul\u0000inside', '😀 é \uffff', `$1 ? :x`]
      await st.actions(store, graph)[0].insert(...nasty, nasty[0]!)
      const got = new Map<string, number>()
      for await (const [row] of counter.zset(store).iter()) got.set(row.name, row.n)
      t.deepEqual([...got.keys()].sort(), [...nasty].sort())
      t.is(got.get(nasty[0]!), 2)
      t.true(sources.length > 5)
      for (const s of sources) for (const v of ['DROP TABLE st_graph', 'quoted', 'nul', '😀', '$1 ? :x']) t.false(s.includes(v), `a value appears in SQL text: ${s}`)
      await store.close()
    })
  })

  test(`${kind}: reads are batched: one statement per delay read, however many rows change`, async (t) => {
    await withPlace(t, kind, async ({ open, statements }) => {
      const { graph } = meterReadsQuery()
      const store = await open(graph, { createTables: true })
      const [users, meters, reads] = st.actions(store, graph)
      await users.insert(...Array.from({ length: 60 }, (_, i) => ({ userId: i, name: `u${i}` })))
      await meters.insert(...Array.from({ length: 120 }, (_, i) => ({ meterId: `m${i}`, userId: i % 60 })))
      const readsFor = (n: number, hour: number): Read[] =>
        Array.from({ length: n }, (_, i) => ({ meterId: `m${i % 120}`, timestamp: new Date(Date.UTC(2023, 0, 1 + (i % 28), hour)), value: i }))
      const count = async (work: () => Promise<unknown>) => {
        const before = statements.length
        await work()
        // The field names table is read and written only when a row brings names it lacks (the first batch).
        const run = statements.slice(before).filter((s) => !/_names\b/.test(s))
        return {
          selects: run.filter((s) => /^\s*SELECT/i.test(s) && !/pg_advisory|last_update|hashtext/.test(s)).length,
          inserts: run.filter((s) => /INSERT/i.test(s)).length,
        }
      }
      const few = await count(() => reads.insert(...readsFor(3, 1)))
      const many = await count(() => reads.insert(...readsFor(400, 2)))
      t.log(`3 rows: ${JSON.stringify(few)}; 400 rows: ${JSON.stringify(many)}`)
      // Each delay is read at most once per iteration here, however many rows.
      t.is(many.selects, few.selects)
      t.true(many.selects <= graph.def.delays.length)
      // Writes are multi-row statements: a handful per delay, not one per row.
      t.true(many.inserts <= 4 * graph.def.delays.length, `${many.inserts} INSERT statements`)
      t.deepEqual(await allState(store), await allState(store))
      await store.close()
    })
  })

  test(`${kind}: an ordered scan stops early: firstN over thousands of rows reads one page`, async (t) => {
    await withPlace(t, kind, async ({ open, statements }) => {
      const graph = st.compile([st.input<number>()], (s) => st.firstN(s, { index: st.index.identity<number>(), n: 3 }))
      const store = await open(graph, { createTables: true })
      const [input] = st.actions(store, graph)
      await input.insert(...Array.from({ length: 3000 }, (_, i) => i + 10))
      const before = statements.length
      const [out] = await input.insert(5)
      const scans = statements.slice(before).filter((s) => /ORDER BY/i.test(s) && /LIMIT/i.test(s))
      t.is(scans.length, 1)
      t.deepEqual([...out.iter()].sort((a, b) => a[0] - b[0]), [
        [5, 1],
        [12, -1],
      ])
      await store.close()
    })
  })

  test(`${kind}: a writer whose frontier is never reached fails with a clear timeout, and does not hold up the next`, async (t) => {
    await withPlace(t, kind, async ({ open }) => {
      const graph = counterGraph(false)
      const store = await open(graph, { createTables: true, frontierTimeoutMs: 300 })
      const [names] = st.actions(store, graph)
      await names.apply([['ann', 1]], { time: st.time({ inputTime: 1, frontier: 0 }) })
      t.is(await store.writtenUpTo(), 1)
      const started = Date.now()
      const error = await t.throwsAsync(names.apply([['bob', 1]], { time: st.time({ inputTime: 5, frontier: 4 }) }), {
        instanceOf: st.FrontierTimeoutError,
      })
      t.true(Date.now() - started < 5000)
      t.regex(error!.message, /frontier 4/)
      t.regex(error!.message, /st_[a-z0-9_]+/)
      t.regex(error!.message, /reached time 1/)
      // The failed iteration changed nothing but released its time, so time 6 (frontier 5) goes on.
      t.is(await store.writtenUpTo(), 5)
      await names.apply([['cy', 1]], { time: st.time({ inputTime: 6, frontier: 5 }) })
      const got: string[] = []
      for await (const [row] of counter.zset(store).iter()) got.push(row.name)
      t.deepEqual(got.sort(), ['ann', 'cy'])
      await store.close()
    })
  })

  test(`${kind}: iterations given out of time order by two stores in one process both complete`, async (t) => {
    await withPlace(t, kind, async ({ open }) => {
      const graph = counterGraph(false)
      const a = await open(graph, { createTables: true, frontierTimeoutMs: 10_000 })
      const b = await open(graph)
      const later = st.actions(a, graph)[0].apply([['later', 1]], { time: st.time({ inputTime: 2, frontier: 1 }) })
      await new Promise((r) => setTimeout(r, 50))
      const earlier = st.actions(b, graph)[0].apply([['earlier', 1]], { time: st.time({ inputTime: 1, frontier: 0 }) })
      await Promise.all([later, earlier])
      t.is(await a.writtenUpTo(), 2)
      await a.close()
      await b.close()
    })
  })
}
