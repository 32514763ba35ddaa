/**
 * The bench's targets table (bench/lib/report.ts): the floor-share bounds and the
 * linearity row, from results whose answers are worked out by hand below.
 */
import test from 'ava'
import { type Report, svgChart, targets, typescriptPeers } from '../../bench/lib/report.js'
import type { Engine, RunResult, Scenario } from '../../bench/lib/types.js'

function run(engine: Engine, scenario: Scenario, rows: number, rowsPerSec: number, extra?: Record<string, unknown>, store: RunResult['config']['store'] = 'sqlite'): RunResult {
  return {
    config: { id: `${engine}-${scenario}-${rows}`, engine, scenario, store, backend: engine === 'stepping' ? 'native' : undefined, rows, batch: 1000, seed: 42, timeLimitS: 300, lookups: 0 },
    status: 'ok',
    rowsIngested: rows,
    seconds: rows / rowsPerSec,
    rowsPerSec,
    extra,
  }
}

const measured = (rs: RunResult[], what: string) => targets(rs).find((t) => t.what === what)!

test('report: a floor share is bounded by the encoding and by our query against the floor’s SQL', (t) => {
  // The floor: 1M rows in 0.5 s of SQL (0.5 µs a row), 1 s of encoding besides.
  const floor = run('floor', 'ref', 1_000_000, 2_000_000, { serializeSeconds: 1 })
  // Ours: query 0.3 + input 0.2 = 0.5 µs a row, as much as the floor's SQL.
  const ours = run('stepping', 'ref', 1_000_000, 500_000, { timeSplit: { query: 0.3, input: 0.2, storeReads: 0.1, storeWrites: 1, transaction: 0.4 } })
  const row = measured([floor, ours], "SQLite, ref: share of the storage floor's rate")
  t.false(row.ok)
  t.regex(row.measured, /^25% \(500,000 vs 2,000,000 rows\/s\)/)
  // 0.5 / (0.5 + 1) = 33%: encoding costs 200% of the SQL.
  t.regex(row.measured, /at most 33% with the query itself free \(encoding the rows to store costs 200% of the SQL\)/)
  // 0.5 / (0.5 + 0.5) = 50%.
  t.regex(row.measured, /at most 50% with this query and a store costing only the floor's SQL \(query 0\.50 µs\/row, SQL 0\.50 µs\/row\)/)
  // 0.5 / (0.5 + 1 + 0.1) = 31%: the floor's SQL and encoding, and our store's reads (its commit is in the floor's SQL).
  t.regex(row.measured, /at most 31% with the query free and the state read back as our store reads it \(0\.10 µs\/row, which the floor never spends\)/)
})

test('report: without our time split there is no query bound', (t) => {
  const row = measured([run('floor', 'ref', 1_000_000, 2_000_000), run('stepping', 'ref', 1_000_000, 500_000)], "SQLite, ref: share of the storage floor's rate")
  t.regex(row.measured, /^25% /)
  t.notRegex(row.measured, /at most/)
})

test('report: linearity takes the worst configuration and shows the floor’s growth over the same sizes', (t) => {
  const rs = [
    run('stepping', 'wide', 10_000, 30_000),
    run('stepping', 'wide', 1_000_000, 20_000), // 1.5×
    run('stepping', 'ref', 10_000, 200_000),
    run('stepping', 'ref', 1_000_000, 250_000), // faster at 1M: 0.8×
    run('floor', 'wide', 10_000, 150_000),
    run('floor', 'wide', 1_000_000, 30_000), // 5×
    run('floor', 'ref', 10_000, 1_000_000),
    run('floor', 'ref', 1_000_000, 2_000_000),
  ]
  const row = measured(rs, 'linear: per-row cost at 1M rows against 10k (worst configuration)')
  t.is(row.measured, "1.50× (wide, sqlite, native); the storage floor's own per-row cost grows 5.00× over the same sizes")
  t.true(row.ok)
  rs[1] = run('stepping', 'wide', 1_000_000, 19_000)
  t.false(measured(rs, 'linear: per-row cost at 1M rows against 10k (worst configuration)').ok)
})

test('report: the TypeScript peers in memory, each against our best backend on the same rows', (t) => {
  const mem = (engine: Engine, scenario: Scenario, rows: number, rowsPerSec: number) => run(engine, scenario, rows, rowsPerSec, undefined, 'memory')
  const stopped = { ...mem('d2ts', 'wide', 1_000_000, 800), status: 'partial' as const, rowsIngested: 240_000 }
  const rs = [
    mem('stepping', 'ref', 100_000, 600_000),
    { ...mem('stepping', 'ref', 100_000, 450_000), config: { ...mem('stepping', 'ref', 100_000, 0).config, backend: 'ts' as const } },
    mem('d2ts', 'ref', 100_000, 60_000),
    mem('tanstack', 'ref', 100_000, 12_000),
    mem('stepping', 'wide', 1_000_000, 20_000),
    stopped,
    run('d2ts', 'ref', 100_000, 5_000), // on SQLite: not in the memory table
  ]
  t.deepEqual(typescriptPeers(rs).slice(3), [
    '| scenario | rows | stepping | d2ts | TanStack DB |',
    '| --- | ---: | ---: | ---: | ---: |',
    '| ref | 100,000 | 600,000 (native) | 60,000 (10.0×) | 12,000 (50.0×) |',
    '| wide | 1,000,000 | 20,000 (native) | 800 (25.0×), stopped after 240,000 rows | – |',
  ])
  t.deepEqual(typescriptPeers(rs.filter((r) => r.config.engine === 'stepping')), [])
  // Only the peers that ran get a column.
  t.deepEqual(typescriptPeers(rs.filter((r) => r.config.engine !== 'tanstack')).slice(3, 6), [
    '| scenario | rows | stepping | d2ts |',
    '| --- | ---: | ---: | ---: |',
    '| ref | 100,000 | 600,000 (native) | 60,000 (10.0×) |',
  ])
})

test('report: the chart is wide enough for its longest legend line', (t) => {
  const long = { ...run('stepping', 'ref', 1_000_000, 1_234_567, undefined, 'postgres'), series: [[500_000, 1_000_000], [1_000_000, 1_234_567]] as [number, number][] }
  const svg = svgChart({ machine: {} as Report['machine'], mode: 'custom', startedAt: '', finishedAt: '', argv: [], peers: {}, results: [long] })
  const width = Number(/<svg [^>]*width="(\d+)"/.exec(svg)![1])
  const legend = /<text x="([\d.]+)" y="[\d.]+">(stepping \(native\) · postgres \(1,234,567\))<\/text>/.exec(svg)!
  t.truthy(legend)
  // Helvetica at 12 px averages over 6 px a character for such text.
  t.true(Number(legend[1]) + legend[2]!.length * 6 <= width, `legend from ${legend[1]}, ${legend[2]!.length} characters, chart ${width} wide`)
})
