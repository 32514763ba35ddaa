/**
 * Integrals kept as logs (src/stores/sql.ts, "logs"): a join's state written
 * as one chunk per key and write, read as the sum of a key's chunks, merged
 * on reads. The chunk functions against a model of a log; then joins whose
 * state is a log, fed long random sequences on few keys (so keys gather many
 * chunks and reads merge them), against the oracle on every store, with the
 * SQL tables inspected afterwards.
 */
import test from 'ava'
import fc from 'fast-check'
import * as st from '../../src/index.js'
import {
  type EncodedRow,
  type SqlStore,
  type StoredChunk,
  type StoredRow,
  chunksOf,
  chunksToMerge,
  rowsFromChunks,
} from '../../src/stores/sql.js'
import * as o from '../helpers/oracle.js'
import { checkSteps } from '../helpers/steps.js'
import { storeTest } from '../helpers/stores.js'

const keyBytes = (k: string) => Buffer.from(k)

/** Rows by key, summed by text, zeros left out, in key then text order: what a key reads as. */
function summed(rows: Iterable<[key: string, text: string, weight: number]>): [string, string, number][] {
  const sums = new Map<string, Map<string, number>>()
  for (const [key, text, weight] of rows) {
    const texts = sums.get(key) ?? new Map<string, number>()
    texts.set(text, (texts.get(text) ?? 0) + weight)
    sums.set(key, texts)
  }
  const out: [string, string, number][] = []
  for (const key of [...sums.keys()].sort()) {
    for (const text of [...sums.get(key)!.keys()].sort()) if (sums.get(key)!.get(text) !== 0) out.push([key, text, sums.get(key)!.get(text)!])
  }
  return out
}

/** A write's rows as encodeRows gives them for a log: as given (a text may repeat, or cancel), in key order. */
function encoded(rows: Map<string, [string, number][]>): EncodedRow[] {
  const out: EncodedRow[] = []
  for (const key of [...rows.keys()].sort()) {
    for (const [text, weight] of rows.get(key)!) out.push({ keys: [keyBytes(key)], text, weight, id: undefined, order: keyBytes(key).toString('latin1') })
  }
  return out
}

const write = fc.dictionary(
  fc.constantFrom('a', 'b', 'c'),
  // Texts as stored texts may look: with the key mark and token marks among them; repeats allowed.
  fc.array(fc.tuple(fc.constantFrom('{"x":1}', '{"x":\x1f}', '\x01"y"\x02', 'z', ''), fc.constantFrom(-2, -1, 1, 2)), { maxLength: 5 }),
  { maxKeys: 3 },
)

test('chunks: a key reads as the sum of its writes, whatever merges ran; read keys keep few chunks, and cancelled keys none', (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(write, fc.boolean()), { minLength: 1, maxLength: 60 }), (steps) => {
      const log: StoredChunk[] = []
      const written: [string, string, number][] = []
      let n = 0
      const readAll = (merge: boolean) => {
        const ordered = [...log].sort((x, y) => Buffer.compare(x.k0, y.k0) || x.n - y.n)
        return rowsFromChunks(ordered, merge)
      }
      for (const [w, read] of steps) {
        const rows = new Map(Object.entries(w).filter(([, texts]) => texts.length > 0))
        for (const c of chunksOf(encoded(rows))) log.push({ ...c, n: ++n })
        for (const [k, texts] of rows) for (const [text, weight] of texts) written.push([k, text, weight])
        const chunkCount = (key: string) => log.filter((c) => c.k0.toString() === key).length
        const several = ['a', 'b', 'c'].filter((key) => chunkCount(key) > 1)
        const { rows: got, merges } = readAll(read)
        const want = summed(written)
        // A key of several chunks is read summed: each text once, none of weight 0.
        for (const key of several) {
          const own = got.filter((r) => r.k0!.toString() === key)
          t.is(new Set(own.map((r) => r.text)).size, own.length)
          t.true(own.every((r) => r.weight !== 0))
        }
        // Read by key; a key's rows sum to what was written (a lone chunk comes as written, merges summed).
        const asRead = (rows: StoredRow[]) => summed(rows.map((r) => [r.k0!.toString(), r.text, r.weight]))
        const keysInOrder = got.map((r) => r.k0!.toString())
        t.deepEqual(keysInOrder, [...keysInOrder].sort())
        t.deepEqual(asRead(got), want)
        for (const m of merges) {
          for (const gone of m.ns) log.splice(log.findIndex((c) => c.k0.equals(m.k0) && c.n === gone), 1)
          if (m.rows !== '') log.push({ k0: m.k0, n: ++n, rows: m.rows })
        }
        if (read) {
          // The same rows after the merges, and few chunks per key: at most four, or sizes halving from old to new.
          t.deepEqual(asRead(readAll(false).rows), want)
          for (const key of ['a', 'b', 'c']) {
            const own = log.filter((c) => c.k0.toString() === key)
            const chars = own.reduce((s, c) => s + c.rows.length, 0)
            t.true(own.length <= 4 || own.length <= Math.log2(chars + 1) + 2, `${own.length} chunks for ${chars} characters`)
            // A lone chunk is read as written, so one whose rows cancel among themselves stays until the key's next write.
            if (want.every(([k]) => k !== key)) t.true(own.length <= 1, 'a key whose rows all cancelled keeps at most one chunk once read')
          }
        }
      }
    }),
    { numRuns: 300 },
  )
})

test('chunks: merging goes back while the older chunk is at most twice what is gathered', (t) => {
  const sized = (...sizes: number[]) => sizes.map((s) => ({ rows: 'x'.repeat(s) }))
  t.is(chunksToMerge(sized(8, 4, 2, 1)), 0, 'four chunks are left alone')
  t.is(chunksToMerge(sized(100, 50, 25, 12, 1, 1)), 2)
  t.is(chunksToMerge(sized(16, 8, 4, 2, 1, 1)), 6, 'a full cascade')
  t.is(chunksToMerge(sized(1000, 400, 100, 30, 1)), 0, 'the newest alone is no merge')
})

// ---------------------------------------------------------------- stores

type Order = { id: number; customer: string; amount: number }
type Customer = { customer: string; name: string }
const byCustomer = st.index<Order>((x) => x.customer)
const customerKey = st.index<Customer>((c) => c.customer)

function ordersGraph() {
  return st.compile([st.input<Order>(), st.input<Customer>()], (orders, customers) =>
    st.join(orders, customers, { onLeft: byCustomer, onRight: customerKey }),
  )
}

const order = fc.record({ id: fc.integer({ min: 0, max: 30 }), customer: fc.constantFrom('ann', 'bob'), amount: fc.integer({ min: 1, max: 3 }) })
const customer = fc.record({ customer: fc.constantFrom('ann', 'bob'), name: fc.constantFrom('A', 'B', 'C') })

storeTest('log: a join over long change sequences on two keys (many chunks per key, merged as they are read) matches the oracle', async (t, open) => {
  const graph = ordersGraph()
  const store = await open(graph)
  if (store.kind !== 'memory') t.deepEqual((store as SqlStore).layout.tables.map((x) => x.format), ['log', 'log'])
  await checkSteps(t, open, {
    graph,
    rows: [order, customer],
    oracle: ([orders, customers]) => [o.join(orders!, customers!, (x: Order) => x.customer, (c: Customer) => c.customer)],
    maxSteps: 40,
    numRuns: 6,
  })
})

/** The chunks of a SQL store's log table, per key. */
async function chunkCounts(store: st.Store, table: string): Promise<Map<string, number>> {
  const rows =
    store instanceof st.SqliteStore
      ? (store.db.prepare(`SELECT k0_customer AS k, count(*) AS n FROM ${table} GROUP BY 1`).all() as { k: Buffer; n: number }[])
      : ((await (store as st.PostgresStore).pool.query(`SELECT k0_customer AS k, count(*) AS n FROM ${table} GROUP BY 1`)).rows as { k: Buffer; n: string }[])
  return new Map(rows.map((r) => [r.k.toString('hex'), Number(r.n)]))
}

storeTest('log: a key written in many batches is merged when read, and a key whose rows all cancel is emptied', async (t, open) => {
  const graph = ordersGraph()
  const store = await open(graph)
  const [orders, customers] = st.actions(store, graph)
  const ann: Customer = { customer: 'ann', name: 'A' }
  await customers.insert(ann)
  const placed: Order[] = []
  for (let i = 0; i < 40; i++) {
    const o1 = { id: i, customer: 'ann', amount: 1 }
    placed.push(o1)
    // Each batch joins with ann: the order integral's delay is written, not read.
    t.deepEqual([...(await orders.insert(o1))[0].iter()], [[st.pair(o1, ann), 1]])
  }
  const table = store.kind === 'memory' ? undefined : (store as SqlStore).layout.tables.find((x) => x.delay.path === 'join/integrate_indexed/delay')!.name
  if (table) t.is([...(await chunkCounts(store, table)).values()][0], 40, 'one chunk per batch')
  // Renaming ann reads her 40 orders (and merges them).
  const renamed: Customer = { customer: 'ann', name: 'B' }
  const [out] = await customers.replace(ann, renamed)
  t.deepEqual(
    o.signature(o.bag([...out.iter()])),
    o.signature(o.bag([...placed.map((x) => [st.pair(x, ann), -1] as const), ...placed.map((x) => [st.pair(x, renamed), 1] as const)])),
  )
  if (table) t.true([...(await chunkCounts(store, table)).values()][0]! <= 4, 'read once, the key keeps few chunks')
  // Every order removed, in batches: once read, nothing of ann is left in the log.
  for (let i = 0; i < placed.length; i += 10) await orders.remove(...placed.slice(i, i + 10))
  const [after] = await customers.replace(renamed, ann)
  t.deepEqual([...after.iter()], [])
  if (table) t.deepEqual(await chunkCounts(store, table), new Map())
})
