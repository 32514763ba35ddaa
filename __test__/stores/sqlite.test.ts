/**
 * SQLite-only behaviour: the file runs in WAL mode (a file the store opens with
 * synchronous = NORMAL and a checkpoint every 10,000 pages); a Database handed in
 * stays the caller's (open after `store.close()`), a path is opened and
 * closed by the store; `:memory:` works; the file holds one table per delay
 * plus the metadata and last_update tables, and nothing else.
 */
import { existsSync } from 'node:fs'
import test from 'ava'
import Database from 'better-sqlite3'
import * as st from '../../src/index.js'
import { freshSqlitePath } from '../helpers/sqlite.js'

function totalsGraph() {
  const cache = st.cache<number>()
  const graph = st.compile([st.input<number>()], (n) => {
    const total = st.reduce(n, { zero: () => 0, pick: (x: number) => x })
    cache.integrate(total)
    return total
  })
  return { graph, cache }
}

test('sqlite: WAL mode; a path is closed by the store, a Database given stays open', async (t) => {
  const path = freshSqlitePath()
  const { graph } = totalsGraph()
  const owned = await st.sqliteStore(path, graph, { createTables: true })
  t.is(owned.db.pragma('journal_mode', { simple: true }), 'wal')
  t.is(owned.db.pragma('synchronous', { simple: true }), 1) // NORMAL
  t.is(owned.db.pragma('wal_autocheckpoint', { simple: true }), 10_000)
  await st.actions(owned, graph)[0].insert(1, 2, 3)
  await owned.close()
  t.false(owned.db.open)

  const db = new Database(path)
  const given = await st.sqliteStore(db, graph)
  t.is(db.pragma('wal_autocheckpoint', { simple: true }), 1000, "a Database given keeps SQLite's default")
  const [out] = await st.actions(given, graph)[0].insert(4)
  t.deepEqual([...out.iter()].sort(), [
    [10, 1],
    [6, -1],
  ])
  await given.close()
  t.true(db.open)
  const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name)
  t.deepEqual(tables, [...given.layout.tables.map((x) => x.name), 'st_graph', 'st_last_update', 'st_names'].sort())
  db.close()
})

test('sqlite: an in-memory database works', async (t) => {
  const { graph, cache } = totalsGraph()
  const store = await st.sqliteStore(':memory:', graph, { createTables: true })
  const [n] = st.actions(store, graph)
  await n.insert(5)
  await n.insert(6)
  const rows: [number, number][] = []
  for await (const r of cache.zset(store).iter()) rows.push(r)
  t.deepEqual(rows, [[11, 1]])
  await store.close()
})

test('sqlite: a prefix lets two graphs share one file', async (t) => {
  const path = freshSqlitePath()
  const a = totalsGraph()
  const b = totalsGraph()
  const first = await st.sqliteStore(path, a.graph, { createTables: true })
  const second = await st.sqliteStore(path, b.graph, { createTables: true, prefix: 'other' })
  await st.actions(first, a.graph)[0].insert(1)
  await st.actions(second, b.graph)[0].insert(2)
  const read = async (store: st.SqliteStore, cache: st.Cache<number>) => {
    const out: unknown[] = []
    for await (const r of cache.zset(store).iter()) out.push(r)
    return out
  }
  t.deepEqual(await read(first, a.cache), [[1, 1]])
  t.deepEqual(await read(second, b.cache), [[2, 1]])
  await t.throwsAsync(st.sqliteStore(path, a.graph, { prefix: 'Bad-Prefix' }), { message: /prefix/ })
  await first.close()
  await second.close()
})

test('sqlite: opening a missing file without createTables says so, and creates nothing', async (t) => {
  const path = freshSqlitePath()
  const { graph } = totalsGraph()
  const error = await t.throwsAsync(st.sqliteStore(path, graph), { instanceOf: st.StoreSchemaError })
  t.regex(error!.message, /no SQLite database at .*createTables: true/)
  t.false(existsSync(path))
})
