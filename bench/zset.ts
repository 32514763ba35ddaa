/**
 * ZSet micro-benchmarks (tinybench): the native-vs-TS comparison of issue 3.
 *
 *   npx tsx bench/zset.ts [--backend native,ts] [--quick]
 *
 * With more than one backend, this file runs itself once per backend in a
 * child process with STEPPING_BACKEND set (the backend is chosen when the
 * library loads), then prints and writes the side-by-side table to
 * bench/results/zset.{json,md} (zset-quick.* with --quick).
 *
 *  (a) integrate 1,000,000 rows in batches of 1,000 into a ZSet with one index
 *  (b) 10,000 single-key lookups by index key on that ZSet
 *  (c) add two 100,000-row ZSets (half of the rows in common)
 *  (d) the hash of an N-row ZSet after 1,000 changes, kept incrementally
 *      against recomputed from every row, N = 10k, 100k, 1M
 *  (e) the end-to-end meter-reads query in memory: 100,000 reads in batches of 1,000
 *
 * The backend switch point is `BACKENDS` below: each backend says how to make
 * an indexed table (what a store keeps per delay vertex), how to add two ZSets
 * and how to recompute a table's hash from scratch. A backend that cannot do
 * one of these returns undefined and the row says "n/a".
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Bench } from 'tinybench'
import * as st from '../src/index.js'
import { createStateTable, type StateTable } from '../src/zset/state.js'
import { ZSet } from '../src/zset/zset.js'
import { describeMachine } from './lib/machine.js'
import { batched, workload } from './lib/workloads.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))

// ------------------------------------------------------------------ the backend switch point

interface Row {
  readonly id: number
  readonly key: number
  readonly name: string
}

export interface ZSetBackend {
  readonly name: 'ts' | 'native'
  /** An empty table with these indexes (the state a store keeps per delay vertex). */
  table<T>(indexes: readonly st.Index<T, any>[]): StateTable<T>
  /** a + b as a new value, or undefined when the backend has no such operation. */
  add?<T>(a: ZSet<T>, b: ZSet<T>): unknown
  /** a + b for two tables of this backend, as a new table (for native: a copy made in Rust, then b merged in natively). */
  addTables?<T>(a: StateTable<T>, b: StateTable<T>): StateTable<T>
  /** The table's multiset hash recomputed from every row (not the incrementally kept one). */
  recomputeHash?<T>(t: StateTable<T>): string | undefined
}

const BACKENDS: Record<'ts' | 'native', ZSetBackend> = {
  ts: {
    name: 'ts',
    table: (indexes) => createStateTable(indexes, 'ts'),
    add: (a, b) => a.add(b),
    addTables: (a, b) => {
      const sum = a.copy()
      sum.applyTable(b)
      return sum
    },
    recomputeHash(t) {
      // TsStateTable wraps an indexed ZSet whose hash is computed once and then kept up to date;
      // forgetting it makes the next read recompute it from every row.
      const z = (t as unknown as { z: { hashSum?: bigint; readonly hash: string } }).z
      z.hashSum = undefined
      return z.hash
    },
  },
  native: {
    name: 'native',
    table: (indexes) => createStateTable(indexes, 'native'),
    // Native ZSets are state tables only; values in flight stay TS ZSets, so there is no native `add` of two values.
    // Two native tables add natively: the copy is made in Rust, b's rows are merged by identity, and JS only files row objects by slot.
    addTables: (a, b) => {
      const sum = a.copy()
      sum.applyTable(b)
      return sum
    },
    recomputeHash(t) {
      const n = (t as unknown as { native?: { recomputeHash?: () => string } }).native
      return n?.recomputeHash?.()
    },
  },
}

// ------------------------------------------------------------------ data

const byKey = st.index<Row>((r) => r.key)

function rows(from: number, n: number, keys: number): Row[] {
  const out: Row[] = []
  for (let i = from; i < from + n; i++) out.push({ id: i, key: i % keys, name: `row-${i}` })
  return out
}

const zsetOf = <T>(rs: readonly T[], weight = 1): ZSet<T> => st.zset(rs.map((r) => [r, weight] as const))

// ------------------------------------------------------------------ measuring

export interface MicroResult {
  task: string
  backend: string
  /** Mean time of one task iteration, ms. */
  mean: number
  p50: number
  p99: number
  samples: number
  /** What one iteration does, to turn the mean into a rate. */
  unit?: { count: number; of: string }
  note?: string
}

async function measure(
  out: MicroResult[],
  backend: string,
  task: string,
  fn: () => unknown,
  opts: { iterations: number; time?: number; beforeEach?: () => void; beforeAll?: () => void; unit?: MicroResult['unit'] },
): Promise<void> {
  const bench = new Bench({ iterations: opts.iterations, time: opts.time ?? 0, warmup: true, warmupIterations: 1, warmupTime: 0 })
  bench.add(task, fn, { beforeEach: opts.beforeEach, beforeAll: opts.beforeAll })
  await bench.run()
  const r = bench.tasks[0]!.result as { state: string; latency?: { mean: number; p50: number; p99: number; samplesCount?: number }; error?: Error }
  if (r.state !== 'completed' || !r.latency) {
    out.push({ task, backend, mean: NaN, p50: NaN, p99: NaN, samples: 0, note: r.error?.message ?? r.state })
  } else {
    out.push({ task, backend, mean: r.latency.mean, p50: r.latency.p50, p99: r.latency.p99, samples: r.latency.samplesCount ?? opts.iterations, unit: opts.unit })
  }
  const last = out[out.length - 1]!
  console.error(`  ${backend.padEnd(6)} ${task}: ${Number.isNaN(last.mean) ? last.note : `${last.mean.toFixed(3)} ms`}`)
}

/** Run one section; a backend that fails in it gets an n/a row and the other sections still run. */
async function section(out: MicroResult[], backend: string, task: string, body: () => Promise<void>): Promise<void> {
  // Start each section from a collected heap (the child runs with --expose-gc), so that the
  // garbage of the 1M-row sections is not collected in the middle of a later, smaller one.
  ;(globalThis as { gc?: () => void }).gc?.()
  try {
    await body()
  } catch (e) {
    const note = `failed: ${(e as Error).message.split('\n')[0]}`
    out.push({ task, backend, mean: NaN, p50: NaN, p99: NaN, samples: 0, note })
    console.error(`  ${backend.padEnd(6)} ${task}: ${note}`)
  }
}

async function runAll(backend: ZSetBackend, quick: boolean): Promise<MicroResult[]> {
  const out: MicroResult[] = []
  const b = backend.name
  const N = quick ? 100_000 : 1_000_000
  const KEYS = N / 100
  const n = (x: number) => x.toLocaleString('en-US')

  // (a) integrate N rows in batches of 1,000, then (b) single-key lookups on the result
  const taskA = `(a) integrate ${n(N)} rows in batches of 1,000 (one index)`
  const taskB = `(b) 10,000 lookups by index key (${n(N / KEYS)} rows per key)`
  const deltas = [...batched(rows(0, N, KEYS), 1000)].map((rs) => zsetOf(rs))
  await section(out, b, taskA, () =>
    measure(
      out,
      b,
      taskA,
      () => {
        const t = backend.table<Row>([byKey])
        for (const d of deltas) t.apply(d)
        const size = t.size
        t.release() // as a store does when it closes: later sections do not run beside 1M dead native rows
        return size
      },
      { iterations: quick ? 2 : 3, unit: { count: N, of: 'rows' } },
    ),
  )
  await section(out, b, taskB, async () => {
    const big = backend.table<Row>([byKey])
    for (const d of deltas) big.apply(d)
    const lookupKeys = Array.from({ length: 10_000 }, (_, i) => (i * 7919) % KEYS)
    await measure(
      out,
      b,
      taskB,
      () => {
        let found = 0
        for (const k of lookupKeys) for (const _ of big.iterByIndex(byKey, [k])) found++
        return found
      },
      { iterations: quick ? 3 : 5, unit: { count: 10_000, of: 'lookups' } },
    )
    // The same keys read the way a join reads its state: one batched lookup per 1,000 keys, the rows listed per key.
    const taskB2 = `(b) the same 10,000 keys, 1,000 per lookup (as a join reads state)`
    const encoded = [...batched(lookupKeys.map((k) => byKey.encodeKey(k)), 1000)]
    await measure(
      out,
      b,
      taskB2,
      () => {
        let found = 0
        for (const keys of encoded) {
          const rows = big.lookupEach(byKey as st.Index<Row, unknown>, keys)
          // What a join reads of each row: its value and weight.
          for (let k = 0; k < rows.keyCount; k++) for (let j = 0, n = rows.count(k); j < n; j++) if (rows.value(k, j) !== undefined) found += rows.weight(k, j)
        }
        return found
      },
      { iterations: quick ? 3 : 5, unit: { count: 10_000, of: 'lookups' } },
    )
    big.release()
  })
  deltas.length = 0

  // (c) two 100,000-row ZSets, half of the rows in common
  const A = zsetOf(rows(0, 100_000, 1000))
  const B = zsetOf(rows(50_000, 100_000, 1000))
  const taskC1 = '(c) a.add(b): two 100,000-row ZSets, new value'
  const taskC2 = '(c) table(a) += b: two 100,000-row ZSets, in place (one index)'
  if (backend.add) {
    await section(out, b, taskC1, () =>
      measure(out, b, taskC1, () => backend.add!(A, B), { iterations: quick ? 5 : 10, unit: { count: 200_000, of: 'rows' } }),
    )
  } else {
    out.push({ task: taskC1, backend: b, mean: NaN, p50: NaN, p99: NaN, samples: 0, note: 'n/a: values in flight are TS ZSets' })
  }
  const taskC3 = '(c) a + b: two 100,000-row tables (one index), new table'
  if (backend.addTables) {
    const ta = backend.table<Row>([byKey])
    ta.apply(A)
    const tb = backend.table<Row>([byKey])
    tb.apply(B)
    let sum: StateTable<Row> | undefined
    await section(out, b, taskC3, () =>
      measure(out, b, taskC3, () => (sum = backend.addTables!(ta, tb)).size, {
        iterations: quick ? 5 : 10,
        beforeEach: () => sum?.release(),
        unit: { count: 200_000, of: 'rows' },
      }),
    )
    sum?.release()
    ta.release()
    tb.release()
  } else {
    out.push({ task: taskC3, backend: b, mean: NaN, p50: NaN, p99: NaN, samples: 0, note: 'n/a' })
  }
  let target: StateTable<Row> | undefined
  await section(out, b, taskC2, () =>
    measure(out, b, taskC2, () => target!.apply(B), {
      iterations: quick ? 5 : 10,
      beforeEach: () => {
        target?.release()
        target = backend.table<Row>([byKey])
        target.apply(A)
      },
      unit: { count: 100_000, of: 'rows' },
    }),
  )

  // (d) hash after 1,000 changes, incremental vs recomputed
  for (const size of quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000]) {
    const inc = `(d) hash of ${n(size)} rows after 1,000 changes: incremental`
    const rec = `(d) hash of ${n(size)} rows after 1,000 changes: recomputed`
    await section(out, b, inc, async () => {
      const t = backend.table<Row>([byKey])
      for (const d of batched(rows(0, size, size / 100), 10_000)) t.apply(zsetOf(d))
      void t.hash // computed once; from here on kept up to date
      let round = 0
      const change = () => zsetOf(rows((round++ * 1000) % size, 1000, size / 100)) // +1 on 1,000 existing rows
      let next = change()
      await measure(
        out,
        b,
        inc,
        () => {
          t.apply(next)
          return t.hash
        },
        { iterations: 20, beforeEach: () => void (next = change()), unit: { count: 1000, of: 'changes' } },
      )
      if (!backend.recomputeHash || backend.recomputeHash(t) === undefined) {
        out.push({ task: rec, backend: b, mean: NaN, p50: NaN, p99: NaN, samples: 0, note: 'n/a: no recompute entry point' })
        t.release()
        return
      }
      await measure(
        out,
        b,
        rec,
        () => {
          t.apply(next)
          return backend.recomputeHash!(t)
        },
        { iterations: size >= 1_000_000 ? 5 : 10, beforeEach: () => void (next = change()), unit: { count: 1000, of: 'changes' } },
      )
      t.release()
    })
  }

  // (e) end to end: the meter-reads query in memory
  const reads = quick ? 20_000 : 100_000
  const taskE = `(e) meter reads end to end in memory: ${n(reads)} reads in batches of 1,000 (reference-shaped)`
  const input = [...batched(workload('ref', reads, 42).rows(), 1000)]
  await section(out, b, taskE, () =>
    measure(
      out,
      b,
      taskE,
      async () => {
        const q = workload('ref', reads, 42)
        const store = st.memoryStore(q.graph)
        const acts = st.actions(store, q.graph) as unknown as st.Action<unknown, unknown[]>[]
        for (const [i, rs] of q.setup) for (const bt of batched(rs, 1000)) await acts[i]!.insert(...bt)
        for (const bt of input) await acts[q.mainInput]!.insert(...bt)
        await store.close()
      },
      { iterations: quick ? 1 : 9, unit: { count: reads, of: 'reads' } },
    ),
  )
  return out
}

// ------------------------------------------------------------------ report

const ms = (x: number) => (Number.isNaN(x) ? 'n/a' : x < 1 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(0))
const rate = (r: MicroResult | undefined) =>
  r?.unit && !Number.isNaN(r.p50) ? `${Math.round((r.unit.count / r.p50) * 1000).toLocaleString('en-US')} ${r.unit.of}/s` : ''

function table(results: MicroResult[], backends: string[]): string {
  const tasks = [...new Set(results.map((r) => r.task))]
  const lines = [
    `| task | ${backends.map((b) => `${b} median ms`).join(' | ')} | ${backends.map((b) => `${b} rate`).join(' | ')}${backends.length === 2 ? ` | ${backends[0]} vs ${backends[1]}` : ''} |`,
    `| --- | ${backends.map(() => '---:').join(' | ')} | ${backends.map(() => '---:').join(' | ')}${backends.length === 2 ? ' | ---:' : ''} |`,
  ]
  for (const t of tasks) {
    const rs = backends.map((b) => results.find((r) => r.task === t && r.backend === b))
    const speed = rs.length === 2 && rs[0] && rs[1] && !Number.isNaN(rs[0].p50) && !Number.isNaN(rs[1].p50) ? `${(rs[1].p50 / rs[0].p50).toFixed(2)}×` : ''
    lines.push(`| ${t} | ${rs.map((r) => (r ? (Number.isNaN(r.p50) ? (r.note ?? 'n/a') : ms(r.p50)) : '–')).join(' | ')} | ${rs.map(rate).join(' | ')}${backends.length === 2 ? ` | ${speed}` : ''} |`)
  }
  return lines.join('\n')
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      backend: { type: 'string', default: 'native,ts' },
      quick: { type: 'boolean', default: false },
      child: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log('npx tsx bench/zset.ts [--backend native,ts] [--quick]')
    return
  }
  const quick = values.quick
  if (values.child) {
    const which = st.backend
    const results = await runAll(BACKENDS[which], quick)
    fs.writeFileSync(values.child, JSON.stringify(results))
    return
  }
  const backends = values.backend.split(',').map((s) => s.trim()) as ('ts' | 'native')[]
  const all: MicroResult[] = []
  const notes: string[] = []
  for (const b of backends) {
    console.error(`backend ${b}:`)
    const file = path.join(os.tmpdir(), `stepping-zset-bench-${process.pid}-${b}.json`)
    const r = spawnSync(process.execPath, ['--max-old-space-size=8192', '--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', file, ...(quick ? ['--quick'] : [])], {
      env: { ...process.env, STEPPING_BACKEND: b },
      stdio: ['ignore', 'inherit', 'pipe'],
      encoding: 'utf8',
    })
    process.stderr.write(r.stderr.split('\n').filter((l) => !l.includes('Unknown user config')).join('\n'))
    if (fs.existsSync(file)) {
      // JSON has no NaN: a task that did not run comes back with nulls.
      for (const r of JSON.parse(fs.readFileSync(file, 'utf8')) as MicroResult[]) all.push({ ...r, mean: r.mean ?? NaN, p50: r.p50 ?? NaN, p99: r.p99 ?? NaN })
      fs.rmSync(file)
    } else {
      notes.push(`${b}: did not run (${r.stderr.trim().split('\n').filter((l) => /Error/.test(l))[0] ?? `exit ${r.status}`})`)
    }
  }
  const ran = backends.filter((b) => all.some((r) => r.backend === b))
  const md = [
    `# ZSet micro-benchmarks${quick ? ' (quick)' : ''}`,
    '',
    `\`npx tsx bench/zset.ts${quick ? ' --quick' : ''}\`, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. ` +
      `${describeMachine().cpu}, ${os.cpus().length} cores, Node ${process.version}.` +
      (ran.length === 2 ? ` Times are medians; the last column is ${ran[0]}'s speed-up over ${ran[1]} (median time ratio).` : ''),
    ...(notes.length ? ['', ...notes.map((n) => `- ${n}`)] : []),
    '',
    table(all, ran),
    '',
  ].join('\n')
  console.log('\n' + md)
  const outDir = path.join(HERE, 'results')
  fs.mkdirSync(outDir, { recursive: true })
  const name = quick ? 'zset-quick' : 'zset'
  fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify({ machine: describeMachine(), quick, results: all }, null, 1) + '\n')
  fs.writeFileSync(path.join(outDir, `${name}.md`), md)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
