/**
 * The native state table against the pure-TS one: the same changes give the
 * same contents, hashes, lookups and ordered scans (ties included), whichever
 * backend the suite runs on (the addon is loaded directly for the comparison).
 * Also: backend selection, and the fallback when the addon cannot be loaded.
 */
import test from 'ava'
import fc from 'fast-check'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as st from '../../src/index.js'
import { loadNative } from '../../src/native/binding.js'
import { NativeStateTable } from '../../src/native/state.js'
import { canonical, rowKey } from '../../src/values/encode.js'
import { hashText } from '../../src/values/hash.js'
import type { Index } from '../../src/zset/indexes.js'
import { listsOf } from '../../src/zset/rowsByKey.js'
import { createStateTable, type StateTable, TsStateTable } from '../../src/zset/state.js'
import { ZSet } from '../../src/zset/zset.js'

const native = loadNative()
const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '../..')

interface Row {
  k: number | string | boolean | null
  s: string
  n: number
  d?: Date
}

const byK = st.index<Row>((r) => r.k)
const byKDescS = st.index<Row>((r) => [r.k, r.s], { ascending: [false, true] })
const bySLength = st.index<Row>((r) => r.s.length % 2, { name: 'sLengthParity' })
const byN = st.index<Row>((r) => r.n) // never declared: read through a temporary index
const INDEXES: Index<Row, any>[] = [byK, byKDescS, bySLength]

// Few distinct values, so rows repeat, keys collide and ties are common; non-ASCII
// text exercises the UTF-16 lengths the boundary sends, `\0` the key escaping.
const arbRow: fc.Arbitrary<Row> = fc.record(
  {
    k: fc.oneof(fc.integer({ min: -2, max: 3 }), fc.constantFrom('a', 'b', 'é', '😀', ''), fc.constant(null), fc.boolean()),
    s: fc.constantFrom('', 'x', 'é', '日本', '😀', 'a\u0000b', '$x', '"q"'),
    n: fc.integer({ min: -1, max: 1 }),
    d: fc.date({ min: new Date(0), max: new Date(1e12), noInvalidDate: true }),
  },
  { requiredKeys: ['k', 's', 'n'] },
)

const arbStep = fc.record({
  rows: fc.array(fc.tuple(fc.nat(), fc.integer({ min: -3, max: 3 })), { maxLength: 25 }),
  sign: fc.constantFrom(1 as const, -1 as const),
  /** Hand the rows over unsummed (as input batches arrive), repeats and all. */
  unconsolidated: fc.boolean(),
})

/** A ZSet from pool positions and weights (repeats sum, zeros drop). */
function deltaOf(pool: Row[], rows: [number, number][], unconsolidated = false): ZSet<Row> {
  const pairs = rows.map(([i, w]) => [pool[i % pool.length]!, w] as const)
  return unconsolidated ? ZSet.unconsolidated(pairs) : (st.zset(pairs) as ZSet<Row>)
}

const contents = (z: Iterable<[unknown, number]>): string[] => [...z].map(([v, w]) => `${canonical(v)} × ${w}`).sort()
const scanOf = (t: StateTable<Row>, index: Index<Row, unknown>) =>
  [...t.scan(index)].map((r) => [r.keyEnc, r.tie, canonical(r.value), r.weight] as const)
const byIndexOf = (t: StateTable<Row>, index: Index<Row, any>, keys?: unknown[]) =>
  [...t.iterByIndex(index, keys)].map(([k, v, w]) => [canonical(k), canonical(v), w] as const)

/** Every read of the two tables agrees. */
function same(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void; is: (a: unknown, b: unknown, m?: string) => void }, a: StateTable<Row>, b: StateTable<Row>, pool: Row[]): void {
  t.is(b.size, a.size, 'size')
  t.is(b.hash, a.hash, 'hash')
  t.deepEqual(contents(b.toZSet().iter()), contents(a.toZSet().iter()), 'contents')
  t.deepEqual(contents(b.iter()), contents(a.iter()), 'iter')
  t.deepEqual(contents(b.iter(pool.slice(0, 5))), contents(a.iter(pool.slice(0, 5))), 'iter(match)')
  for (const index of [...INDEXES, byN]) {
    t.deepEqual(scanOf(b, index), scanOf(a, index), `scan ${index.name}`)
    t.deepEqual(byIndexOf(b, index), byIndexOf(a, index), `iterByIndex ${index.name}`)
  }
  const ks = [0, 'a', null, true, '😀', 7]
  t.deepEqual(byIndexOf(b, byK, ks), byIndexOf(a, byK, ks), 'iterByIndex(byK, keys)')
  const pairs = pool.slice(0, 4).map((r) => [r.k, r.s])
  t.deepEqual(byIndexOf(b, byKDescS, pairs), byIndexOf(a, byKDescS, pairs), 'iterByIndex(byKDescS, keys)')
  const encoded = ks.map((k) => byK.encodeKey(k))
  t.deepEqual(contents(b.lookupKeys(byK, encoded).iter()), contents(a.lookupKeys(byK, encoded).iter()), 'lookupKeys')
  t.deepEqual(contents(b.lookupKeys(byN, [byN.encodeKey(0)]).iter()), contents(a.lookupKeys(byN, [byN.encodeKey(0)]).iter()), 'lookupKeys (undeclared)')
  // Rows key by key (what joins read), read after every change: a changed row (or weight) must be seen.
  const eachOf = (x: StateTable<Row>, index: Index<Row, any>, keys: string[]) =>
    listsOf(x.lookupEach(index, keys)).map((list) => contents(list.map((e) => [e.value, e.weight] as [unknown, number])))
  t.deepEqual(eachOf(b, byK, encoded), eachOf(a, byK, encoded), 'lookupEach')
  // The native table keeps no texts: the texts its rows give are made again, and must be the stored ones.
  const keysOf = (x: StateTable<Row>) => listsOf(x.lookupEach(byK, encoded)).map((list) => list.map((e) => String(e.key)).sort())
  t.deepEqual(keysOf(b), keysOf(a), 'lookupEach row keys')
  t.deepEqual(eachOf(b, byN, [byN.encodeKey(0)]), eachOf(a, byN, [byN.encodeKey(0)]), 'lookupEach (undeclared)')
  const wanted = deltaOf(pool, pool.map((_, i) => [i, 1]))
  t.deepEqual(contents(b.lookupRows(wanted).iter()), contents(a.lookupRows(wanted).iter()), 'lookupRows')
}

test('st.backend is native when the addon loads, unless STEPPING_BACKEND says otherwise', (t) => {
  const wanted = process.env.STEPPING_BACKEND
  if (wanted === 'ts') t.is(st.backend, 'ts')
  else if (native) t.is(st.backend, 'native')
  else t.is(st.backend, 'ts')
  t.is(createStateTable<Row>(INDEXES).backend, st.backend)
})

test('native and TS state tables agree after any sequence of changes', (t) => {
  if (!native) return t.pass('the native addon is not built here')
  fc.assert(
    fc.property(fc.array(arbRow, { minLength: 1, maxLength: 12 }), fc.array(arbStep, { maxLength: 8 }), (pool, steps) => {
      const ts = new TsStateTable<Row>(INDEXES)
      const nat = new NativeStateTable<Row>(native, INDEXES)
      for (const step of steps) {
        const delta = deltaOf(pool, step.rows, step.unconsolidated)
        ts.apply(delta, step.sign)
        nat.apply(delta, step.sign)
        same(t, ts, nat, pool)
      }
      t.is(nat.recomputeHash(), nat.hash, 'incremental hash = recomputed')
      // table + table, natively (copy, then mergeFrom) and in TS
      const tsSum = ts.copy()
      const natSum = nat.copy()
      tsSum.applyTable(ts)
      natSum.applyTable(nat)
      same(t, tsSum, natSum, pool) // (reads made here must not go stale after the next change)
      tsSum.applyTable(deltaTable(new TsStateTable<Row>(INDEXES), pool), -1)
      natSum.applyTable(deltaTable(new NativeStateTable<Row>(native, INDEXES), pool), -1)
      same(t, tsSum, natSum, pool)
      same(t, ts, nat, pool) // copies are independent
      nat.applyTable(nat, -1)
      t.is(nat.size, 0, 'x - x is empty')
      t.is(nat.hash, '0'.repeat(32))
    }),
    { numRuns: 60 },
  )
})

function deltaTable<T extends StateTable<Row>>(table: T, pool: Row[]): T {
  table.apply(deltaOf(pool, pool.map((_, i) => [i, i % 3])))
  return table
}

test('the native table finds rows with non-ASCII text and many rows per key', (t) => {
  if (!native) return t.pass('the native addon is not built here')
  const rows: Row[] = Array.from({ length: 3000 }, (_, i) => ({ k: i % 7, s: ['é', '😀', 'x', '日本'][i % 4]!.repeat(1 + (i % 5)), n: i }))
  const ts = new TsStateTable<Row>(INDEXES)
  const nat = new NativeStateTable<Row>(native, INDEXES)
  for (let i = 0; i < rows.length; i += 700) {
    const delta = st.zset(rows.slice(i, i + 700).map((r) => [r, 1 + (r.n % 2)] as const)) as ZSet<Row>
    ts.apply(delta)
    nat.apply(delta)
  }
  same(t, ts, nat, rows)
  const half = st.zset(rows.filter((_, i) => i % 2 === 0).map((r) => [r, 1] as const)) as ZSet<Row>
  ts.apply(half, -1)
  nat.apply(half, -1)
  same(t, ts, nat, rows)
  // A scan that outgrows its first chunks, read while the table changes under it.
  const seen = []
  for (const row of nat.scan(byK)) {
    if (seen.length === 100) nat.apply(half)
    seen.push(row)
  }
  t.true(seen.length >= rows.length / 2)
})

test('the exchange arrays grow to a batch and a lookup bigger than any before, and reads right after agree with TS', (t) => {
  if (!native) return t.pass('the native addon is not built here')
  // Bigger than anything else in this file: every scratch array and both packers outgrow what they held.
  const N = 20_000
  const rows: Row[] = Array.from({ length: N }, (_, i) => ({ k: i % 5, s: `${'é'.repeat(i % 3)}row ${i} ${'x'.repeat(40)}`, n: i }))
  const ts = new TsStateTable<Row>(INDEXES)
  const nat = new NativeStateTable<Row>(native, INDEXES)
  const small = st.zset([[rows[0]!, 1]]) as ZSet<Row>
  ts.apply(small)
  nat.apply(small)
  const keys = [0, 1, 2, 3, 4].map((k) => byK.encodeKey(k))
  const each = (x: StateTable<Row>) => listsOf(x.lookupEach(byK, keys)).map((list) => contents(list.map((e) => [e.value, e.weight] as [unknown, number])))
  t.deepEqual(each(nat), each(ts))
  // Rows of ~100 KB of text: first into a table keyed by `k` alone, so that only the texts'
  // buffer grows; then into one keyed by `s` too, so that only the keys' buffer grows.
  const long = st.zset([
    [{ k: 1, s: 'é'.repeat(50_000), n: -1 }, 1],
    [{ k: 2, s: '😀'.repeat(25_000), n: -2 }, 2],
  ]) as ZSet<Row>
  const tsByK = new TsStateTable<Row>([byK])
  const natByK = new NativeStateTable<Row>(native, [byK])
  tsByK.apply(long)
  natByK.apply(long)
  t.deepEqual(each(natByK), each(tsByK))
  t.deepEqual(contents(natByK.lookupRows(long).iter()), contents(tsByK.lookupRows(long).iter()))
  ts.apply(long)
  nat.apply(long)
  t.deepEqual(each(nat), each(ts))
  t.is(nat.hash, ts.hash)
  const big = st.zset(rows.map((r, i) => [r, 1 + (i % 3)] as const)) as ZSet<Row>
  ts.apply(big)
  nat.apply(big)
  t.is(nat.size, N + 2)
  // All 20,000 rows back from one lookup, and the weights of 20,000 rows.
  t.deepEqual(each(nat), each(ts))
  t.deepEqual(contents(nat.lookupRows(big).iter()), contents(ts.lookupRows(big).iter()))
  t.is(nat.hash, ts.hash)
  // Back to small calls on the grown arrays.
  ts.apply(small, -1)
  nat.apply(small, -1)
  t.deepEqual(each(nat), each(ts))
})

test("a row read back has its own text, whatever the sizes of the batches that freed and refilled its slot", (t) => {
  if (!native) return t.pass('the native addon is not built here')
  // Small batches keep their rows' texts by slot (native/state.ts, recentTexts); large ones do not.
  // Few rows per key: reads of one key are small enough to use the texts kept.
  const pool: Row[] = Array.from({ length: 60 }, (_, i) => ({ k: i % 12, s: `r${i}`, n: i }))
  const keys = Array.from({ length: 12 }, (_, k) => byK.encodeKey(k))
  // Batches of a few rows (texts kept) and of many (none kept), in any order.
  const change = fc.tuple(fc.nat(), fc.constantFrom(1, -1))
  const batch = fc.oneof(fc.array(change, { minLength: 1, maxLength: 4 }), fc.array(change, { minLength: 40, maxLength: 80 }))
  fc.assert(
    fc.property(fc.array(batch, { minLength: 1, maxLength: 12 }), (steps) => {
      const nat = new NativeStateTable<Row>(native, [byK])
      const ts = new TsStateTable<Row>([byK])
      for (const rows of steps) {
        // Weights kept at 0 or 1 per row, so that removals free slots.
        const live = new Set(listsOf(ts.lookupEach(byK, keys)).flat().map((e) => e.value))
        const delta = st.zset(rows.flatMap(([i, w]) => (live.has(pool[i % 60]!) === (w < 0) ? [[pool[i % 60]!, w] as const] : []))) as ZSet<Row>
        nat.apply(delta)
        ts.apply(delta)
        for (const key of keys) for (const e of listsOf(nat.lookupEach(byK, [key]))[0]!) t.is(e.key, rowKey(e.value))
        t.deepEqual(contents(nat.iter()), contents(ts.iter()))
      }
    }),
  )
})

test('a weight out of the safe range fails the whole batch and changes nothing', (t) => {
  if (!native) return t.pass('the native addon is not built here')
  const nat = new NativeStateTable<Row>(native, INDEXES)
  const a: Row = { k: 1, s: 'a', n: 0 }
  const b: Row = { k: 2, s: 'b', n: 0 }
  nat.apply(st.zset([[a, Number.MAX_SAFE_INTEGER]]) as ZSet<Row>)
  const before = nat.hash
  t.throws(() => nat.apply(st.zset([[b, 1], [a, 1]]) as ZSet<Row>), { message: /weight/ })
  t.is(nat.hash, before)
  t.is(nat.size, 1)
  t.deepEqual(contents(nat.lookupKeys(byK, [byK.encodeKey(2)]).iter()), [])
})

function runChild(env: Record<string, string | undefined>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures/backendChild.ts')], {
    cwd: root,
    env: { ...process.env, STEPPING_BACKEND: undefined, STEPPING_NATIVE_PATH: undefined, ...env },
    encoding: 'utf8',
  })
  const warnings = r.stderr.split('\n').filter((l) => l.startsWith('stepping: native addon'))
  return { status: r.status, stderr: r.stderr, out: r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()!) : undefined, warnings }
}

test('without the addon the TS backend is used and the warning is printed once', (t) => {
  const r = runChild({ STEPPING_NATIVE_PATH: path.join(root, 'no-such-dir') })
  t.is(r.status, 0, r.stderr)
  t.is(r.out.backend, 'ts')
  t.true(r.out.same)
  t.deepEqual(r.out.changes.sort(), [[10, 1], [5, -1]])
  t.is(r.warnings.length, 1, r.stderr)
  t.regex(r.warnings[0]!, /using the pure-TS backend/)
})

test('STEPPING_BACKEND=native without the addon is an error; =ts is silent', (t) => {
  const failed = runChild({ STEPPING_NATIVE_PATH: path.join(root, 'no-such-dir'), STEPPING_BACKEND: 'native' })
  t.not(failed.status, 0)
  t.regex(failed.stderr, /STEPPING_BACKEND=native but the native addon did not load/)
  const quiet = runChild({ STEPPING_NATIVE_PATH: path.join(root, 'no-such-dir'), STEPPING_BACKEND: 'ts' })
  t.is(quiet.status, 0, quiet.stderr)
  t.is(quiet.out.backend, 'ts')
  t.is(quiet.warnings.length, 0)
})

test('with the addon built, a child picks the native backend by default', (t) => {
  if (!native) return t.pass('the native addon is not built here')
  const r = runChild({})
  t.is(r.status, 0, r.stderr)
  t.is(r.out.backend, 'native')
  t.deepEqual(r.out.changes.sort(), [[10, 1], [5, -1]])
  t.is(r.warnings.length, 0)
})

test('memoryStore can be told which backend to use', async (t) => {
  const graph = st.compile([st.input<number>()], (xs) => st.integrate(st.map(xs, (x) => x * 2)))
  for (const backend of native ? (['ts', 'native'] as const) : (['ts'] as const)) {
    const store = st.memoryStore(graph, { backend })
    const [xs] = st.actions(store, graph)
    const [out] = await xs.insert(1, 2)
    t.deepEqual(contents(out!.iter()), ['2 × 1', '4 × 1'], backend)
  }
  if (!native) t.throws(() => st.memoryStore(graph, { backend: 'native' }), { message: /not available/ })
  t.throws(() => st.memoryStore(graph, { backend: 'rust' as 'ts' }), { message: /backend must be/ })
})

test('row identities agree: TS hashText (ASCII fast path and UTF-8) and the native identityHashes', (t) => {
  if (!native) return t.pass('the native addon is not built here')
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 })), (s) => {
      const bytes = Buffer.from(s, 'utf8')
      t.is(hashText(s), native.identityHashes(bytes, Uint32Array.of(0, bytes.length)).toString('hex'))
    }),
    { numRuns: 500 },
  )
})

test('the binding smoke test (every export of the addon, against the shared vectors) passes', (t) => {
  if (!native) return t.pass('the native addon is not built here')
  // --expose-gc: the smoke test also checks that a collected table's handle is freed.
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(root, 'crates/stepping-napi/smoke.cjs')], { cwd: root, encoding: 'utf8' })
  t.is(r.status, 0, r.stdout + r.stderr)
  t.regex(r.stdout, /a collected table's handle is refused/)
  t.regex(r.stdout, /\d+ passed, 0 failed/)
})
