/**
 * The field-name dictionary of the SQL stores (src/stores/names.ts): object
 * keys are stored once, in `<prefix>_names`, and rows refer to them by id.
 * The memory store keeps values as they are and has no such table, so these
 * run on SQLite and PostgreSQL; every check is of what a user sees (outputs,
 * cache reads) plus what the tables hold.
 */
import test, { type ExecutionContext } from 'ava'
import Database from 'better-sqlite3'
import pg from 'pg'
import * as st from '../../src/index.js'
import { MAX_NAMES } from '../../src/stores/names.js'
import { dropPostgresDatabase, freshPostgresUrl } from '../helpers/postgres.js'
import { freshSqlitePath } from '../helpers/sqlite.js'

test.after.always('drop this process’s PostgreSQL database', () => dropPostgresDatabase())

const KINDS = ['sqlite', 'postgres'] as const
type Kind = (typeof KINDS)[number]

/** One database, any number of stores opened on it, and plain SQL reads of what it holds. */
async function place(kind: Kind) {
  const target = kind === 'sqlite' ? freshSqlitePath() : await freshPostgresUrl()
  const stores: st.Store[] = []
  const open = async (graph: st.Graph<any, any>): Promise<st.Store> => {
    const store = kind === 'sqlite' ? await st.sqliteStore(target, graph, { createTables: true }) : await st.postgresStore(target, graph, { createTables: true })
    stores.push(store)
    return store
  }
  const query = async (sql: string): Promise<Record<string, unknown>[]> => {
    if (kind === 'sqlite') {
      const db = new Database(target, { readonly: true })
      try {
        return db.prepare(sql).all() as Record<string, unknown>[]
      } finally {
        db.close()
      }
    }
    const client = new pg.Client({ connectionString: target })
    await client.connect()
    try {
      return (await client.query(sql)).rows
    } finally {
      await client.end()
    }
  }
  /** The names table, in id order. */
  const names = async () => (await query('SELECT id, name FROM st_names ORDER BY id')).map((r) => [Number(r.id), r.name])
  /** Every stored text of every state table (a log's chunks whole). */
  const storedTexts = async (store: st.Store) => {
    const texts: string[] = []
    for (const t of (store as st.SqliteStore).layout.tables) {
      for (const r of await query(`SELECT ${t.format === 'log' ? 'rows' : 'val'} AS text FROM ${t.name}`)) texts.push(String(r.text))
    }
    return texts
  }
  const closeAll = async () => {
    for (const s of stores) await s.close()
  }
  return { open, query, names, storedTexts, closeAll }
}

function namesTest(title: string, body: (t: ExecutionContext, p: Awaited<ReturnType<typeof place>>) => Promise<void>): void {
  for (const kind of KINDS) {
    test(`${title} [${kind}]`, async (t) => {
      const p = await place(kind)
      try {
        await body(t, p)
      } finally {
        await p.closeAll()
      }
    })
  }
}

type Attr = { key: string; value: string }
type Class = { identifier: string; attrs: Attr[]; colour?: string }
const byIdentifier = st.index<Class>((c) => c.identifier)

/** Distinct classes, kept in a cache by identifier: the distinct looks rows up by their stored text. */
function classGraph() {
  const cache = st.cache<Class>()
  const graph = st.compile([st.input<Class>()], (classes) => {
    const unique = st.distinct(classes)
    cache.integrateIndexed(unique, [byIdentifier])
    return unique
  })
  return { graph, cache }
}

/** A ZSet's entries, by identifier (or by first field name). */
const entries = <T>(z: st.ZSet<T>) => [...z.iter()].sort(([x], [y]) => sortKey(x).localeCompare(sortKey(y)))
const sortKey = (v: unknown): string => String((v as Class).identifier ?? Object.keys(v as object)[0])
async function cached(store: st.Store, cache: ReturnType<typeof st.cache<Class>>) {
  const out: [string, Class, number][] = []
  for await (const x of cache.zset(store).iterByIndex(byIdentifier)) out.push(x)
  return out
}

const a: Class = { identifier: 'A', attrs: [{ key: 'x', value: 'str' }] }
const b: Class = { identifier: 'B', attrs: [{ key: 'y', value: 'int' }, { key: 'z', value: 'A' }] }

namesTest('field names are stored once, in the names table; rows read back whole, also from a store opened later', async (t, p) => {
  const { graph, cache } = classGraph()
  const store = await p.open(graph)
  const [classes] = st.actions(store, graph)
  const [out] = await classes.insert(a, b)
  t.deepEqual(entries(out), [
    [a, 1],
    [b, 1],
  ])
  const names = await p.names()
  t.deepEqual(
    names.map(([id]) => id),
    names.map((_, i) => i),
  )
  t.deepEqual(new Set(names.map(([, name]) => name)).size, names.length, 'each name once')
  t.true(['attrs', 'identifier', 'value'].every((n) => names.some(([, name]) => name === n)))
  // No stored text spells a field name out.
  const texts = await p.storedTexts(store)
  t.true(texts.length > 0)
  for (const name of ['"attrs"', '"identifier"', '"value"']) t.false(texts.some((x) => x.includes(name)), name)

  t.deepEqual(await cached(store, cache), [
    ['A', a, 1],
    ['B', b, 1],
  ])
  const later = await p.open(graph)
  t.deepEqual(await cached(later, cache), [
    ['A', a, 1],
    ['B', b, 1],
  ])
  const [again] = st.actions(later, graph)
  t.deepEqual(entries((await again.insert(a))[0]), [], 'the distinct finds the stored row')
  t.deepEqual(entries((await again.remove(a))[0]), [], 'one of two copies removed')
  t.deepEqual(entries((await again.remove(a, b))[0]), [
    [a, -1],
    [b, -1],
  ])
  t.deepEqual(await p.names(), names, 'no name added twice')
})

namesTest('a name another writer added is found by lookups and read by cache reads', async (t, p) => {
  const { graph, cache } = classGraph()
  const first = await p.open(graph)
  // Both opened before the name exists: their dictionaries lack it.
  const second = await p.open(graph)
  const third = await p.open(graph)
  const coloured: Class = { ...a, colour: 'red' }
  const [one] = st.actions(first, graph)
  t.deepEqual(entries((await one.insert(coloured))[0]), [[coloured, 1]])

  // The second store's distinct must find the row by its stored text, which names `colour` by id.
  const [two] = st.actions(second, graph)
  t.deepEqual(entries((await two.insert(coloured))[0]), [])
  t.deepEqual(entries((await two.remove(coloured))[0]), [])
  t.deepEqual(entries((await two.remove(coloured))[0]), [[coloured, -1]])
  t.deepEqual(entries((await two.insert(coloured, b))[0]), [
    [coloured, 1],
    [b, 1],
  ])
  // The third reads rows naming an id it has never seen.
  t.deepEqual(await cached(third, cache), [
    ['A', coloured, 1],
    ['B', b, 1],
  ])
  t.deepEqual([...(await collect(cache.zset(third).iter([coloured, a])))], [[coloured, 1]])
  t.deepEqual((await p.names()).filter(([, name]) => name === 'colour').length, 1)
})

namesTest('a lookup of a name no row holds adds no name', async (t, p) => {
  const { graph, cache } = classGraph()
  const store = await p.open(graph)
  const [classes] = st.actions(store, graph)
  await classes.insert(a)
  const before = await p.names()
  t.deepEqual(await collect(cache.zset(store).iter([{ ...a, colour: 'blue' } as Class])), [])
  t.deepEqual(await p.names(), before)
})

namesTest('names added by an iteration that fails are forgotten: their ids go to the next writer’s names', async (t, p) => {
  const { graph, cache } = classGraph()
  const first = await p.open(graph)
  const second = await p.open(graph)
  const [one] = st.actions(first, graph)
  await one.insert(a)
  const before = await p.names()
  // A row without an identifier: the distinct's table takes it (adding the name `colour`), the cache's refuses it.
  await t.throwsAsync(one.insert({ attrs: [], colour: 'red' } as unknown as Class), { instanceOf: st.InvalidValueError, message: /gives no key/ })
  t.deepEqual(await p.names(), before, 'the failed iteration added no name')

  // Another writer adds a name of its own, which takes the id `colour` had in the failed iteration.
  const [two] = st.actions(second, graph)
  const shaped = { identifier: 'C', attrs: [], shape: 'round' } as Class
  t.deepEqual(entries((await two.insert(shaped))[0]), [[shaped, 1]])
  const ids = new Map((await p.names()).map(([id, name]) => [name, id]))
  t.is(ids.get('shape'), before.length)
  t.false(ids.has('colour'))

  // The first store reads `shape` where it once had `colour`, and writes `colour` under a new id.
  const all = async (store: st.Store) => {
    const out: [Class, number][] = []
    for await (const x of cache.zset(store).iter()) out.push(x)
    return out.sort(([x], [y]) => x.identifier.localeCompare(y.identifier))
  }
  t.deepEqual(await all(first), [
    [a, 1],
    [shaped, 1],
  ])
  const red = { identifier: 'D', attrs: [], colour: 'red' }
  t.deepEqual(entries((await one.insert(red))[0]), [[red, 1]])
  t.deepEqual(await all(second), [
    [a, 1],
    [shaped, 1],
    [red, 1],
  ])
  t.deepEqual(entries((await two.insert(red))[0]), [])
})

namesTest(`past ${MAX_NAMES} names, further names are stored as they are, and found as such`, async (t, p) => {
  const graph = st.compile([st.input<Record<string, number>>()], (rows) => st.distinct(rows))
  const store = await p.open(graph)
  const [rows] = st.actions(store, graph)
  const row = (i: number) => ({ [`field${i}`]: i })
  const count = MAX_NAMES + 50
  t.is(entries((await rows.insert(...Array.from({ length: count }, (_, i) => row(i))))[0]).length, count)
  const names = await p.names()
  t.is(names.length, MAX_NAMES)
  const texts = await p.storedTexts(store)
  t.is(texts.filter((x) => x.includes('"field')).length, 50, 'the rows past the cap keep their names')

  const later = await p.open(graph)
  const [again] = st.actions(later, graph)
  // A row whose name is past the cap and one whose name has an id: both found by the distinct.
  t.deepEqual(entries((await again.insert(row(count - 1), row(0)))[0]), [])
  t.deepEqual(entries((await again.remove(row(count - 1), row(0)))[0]), [])
  t.deepEqual(entries((await again.remove(row(count - 1), row(0)))[0]), [
    [row(0), -1],
    [row(count - 1), -1],
  ])
  t.deepEqual(await p.names(), names)
})

async function collect<T>(it: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}
