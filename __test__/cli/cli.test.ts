/**
 * The `stepping` CLI, run from source as a child process (as `npm run demo`
 * does): the demo's table of top daily usages against sums computed here in
 * plain JS from the same generated data, on the memory, SQLite and Postgres
 * stores; `inspect` on the databases the demo wrote; `graph` writing an SVG
 * with the expected vertex labels; `--help`; and one-line errors.
 */
import test from 'ava'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as st from '../../src/index.js'
import { generateMeterReads } from '../../src/examples/meterReads.js'
import { freshPostgresUrl } from '../helpers/postgres.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const cliMain = join(root, 'src/cli/main.ts')
// Absolute, so that the CLI can run with any working directory.
const tsxLoader = import.meta.resolve('tsx')

interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

function stepping(args: readonly string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, cliMain, ...args], { cwd, env: process.env })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepping-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Lines on stderr other than the backend warning (printed when the native addon is absent). */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l !== '' && !l.includes('native addon not found'))
}

// ---------------------------------------------------------------- expected values, in plain JS

interface ExpectedUsage {
  readonly date: string
  readonly userId: number
  readonly meterId: string
  /** Whole watt-hours: exact, whatever order the reads are summed in. */
  readonly wattHours: number
}

/** Sum every read per user, meter and UTC day, and rank as the demo does: most first, then day, user, meter. */
function expectedDailyUsages(rows: number, seed: number): ExpectedUsage[] {
  const data = generateMeterReads({ rows, seed })
  const ownerOf = new Map(data.meters.map((m) => [m.meterId, m.userId]))
  const sums = new Map<string, ExpectedUsage>()
  for (const read of data.reads) {
    const userId = ownerOf.get(read.meterId)!
    const date = read.timestamp.toISOString().slice(0, 10)
    const key = `${userId}|${read.meterId}|${date}`
    const wattHours = (sums.get(key)?.wattHours ?? 0) + Math.round(read.value * 1000)
    sums.set(key, { date, userId, meterId: read.meterId, wattHours })
  }
  return [...sums.values()].sort(
    (a, b) =>
      b.wattHours - a.wattHours ||
      a.date.localeCompare(b.date) ||
      a.userId - b.userId ||
      (a.meterId < b.meterId ? -1 : a.meterId > b.meterId ? 1 : 0),
  )
}

/** The table rows printed under "top N daily usages": [rank, date, user, meter, kWh]. */
function printedTopTable(stdout: string): string[][] {
  const lines = stdout.split('\n')
  const start = lines.findIndex((l) => /^top \d+ daily usages$/.test(l))
  if (start < 0) throw new Error(`no table in the demo's output:\n${stdout}`)
  const body: string[][] = []
  for (const line of lines.slice(start + 3)) {
    if (line.trim() === '') break
    body.push(line.trim().split(/\s+/))
  }
  return body
}

function expectedTopTable(rows: number, seed: number, top: number): string[][] {
  return expectedDailyUsages(rows, seed)
    .slice(0, top)
    .map((u, i) => [String(i + 1), u.date, String(u.userId), u.meterId, (u.wattHours / 1000).toFixed(3)])
}

/** The demo's summary lines agree with the data: reads ingested, iterations, daily usages read back. */
function checkDemoSummary(t: { regex(s: string, r: RegExp): void }, stdout: string, rows: number, batch: number, seed: number) {
  const groups = expectedDailyUsages(rows, seed).length
  const n = (x: number) => x.toLocaleString('en-US')
  t.regex(stdout, new RegExp(`ingested ${n(rows)} reads in ${n(Math.ceil(rows / batch))} iterations of up to ${n(batch)} in `))
  t.regex(stdout, new RegExp(`read ${n(groups)} daily usages from the cache in date order \\(iterByIndex by date\\) in [\\d.]+ m?s`))
  t.regex(stdout, /looked up one day by index \(2023-01-\d\d\): [\d,]+ daily usages in /)
}

// ---------------------------------------------------------------- demo

test('demo on the memory store prints the top daily usages computed from the generated data', async (t) => {
  const dir = tempDir(t)
  const r = await stepping(['demo', '--store', 'memory', '--rows', '3000', '--batch', '500', '--seed', '7', '--top', '5'], dir)
  t.is(r.code, 0, r.stderr)
  t.deepEqual(errorLines(r.stderr), [])
  t.regex(r.stdout, /^store: memory · backend: (native|ts)$/m)
  t.regex(r.stdout, /data: \d+ users, \d+ meters, 3,000 reads in January 2023 \(seed 7\)/)
  checkDemoSummary(t, r.stdout, 3000, 500, 7)
  // Not a terminal: plain progress lines rather than a bar.
  t.regex(r.stdout, /^ {2}3,000\/3,000 reads \([\d,]+ rows\/s\)$/m)
  t.deepEqual(printedTopTable(r.stdout), expectedTopTable(3000, 7, 5))
  t.false(existsSync(join(dir, 'stepping-demo.db')), 'the memory store writes no file')
})

test('demo writes ./stepping-demo.db by default, inspect lists its delay tables, and a rerun starts afresh', async (t) => {
  const dir = tempDir(t)
  const first = await stepping(['demo', '--rows', '2500', '--seed', '3'], dir)
  t.is(first.code, 0, first.stderr)
  t.regex(first.stdout, /^store: sqlite \(\.\/stepping-demo\.db\)/m)
  checkDemoSummary(t, first.stdout, 2500, 1000, 3)
  t.deepEqual(printedTopTable(first.stdout), expectedTopTable(2500, 3, 10))
  t.true(existsSync(join(dir, 'stepping-demo.db')))

  const inspectTables = async () => {
    const r = await stepping(['inspect', 'stepping-demo.db'], dir)
    t.is(r.code, 0, r.stderr)
    t.regex(r.stdout, /^SQLite database stepping-demo\.db \([\d.]+ (KiB|MiB)\)$/m)
    t.regex(r.stdout, /graph with table prefix "st"/)
    t.regex(r.stdout, /fingerprint: [0-9a-f]{32}/)
    // Six delays, as the reference's own meter-reads query: two per join, one per group-reduce, one for the cache.
    t.regex(r.stdout, /vertices: \d+, delays: 6, delay tables: 6/)
    const rowsOf = (vertex: string) => {
      const line = r.stdout.split('\n').find((l) => l.includes(` ${vertex} `))
      if (!line) throw new Error(`inspect shows no table for ${vertex}:\n${r.stdout}`)
      t.regex(line, /^\s+st_\w+_[0-9a-f]{8}\s/)
      return Number(line.trim().split(/\s+/)[2]!.replace(/,/g, ''))
    }
    // The join's integral of the reads is a log of chunks (one per batch and meter); the cache is one table row per row.
    const storedAs = (vertex: string) => r.stdout.split('\n').find((l) => l.includes(` ${vertex} `))!.trim().replace(/^.*\s(rows|log of [\d,]+ chunks)$/, '$1')
    t.regex(storedAs('join#2/integrate_delay_indexed/delay'), /^log of [\d,]+ chunks$/)
    t.is(storedAs('cache/integrate_indexed/delay'), 'rows')
    return {
      cache: rowsOf('cache/integrate_indexed/delay'),
      reads: rowsOf('join#2/integrate_delay_indexed/delay'),
      users: rowsOf('join/integrate_indexed/delay'),
    }
  }
  const expected = {
    cache: expectedDailyUsages(2500, 3).length,
    reads: 2500,
    users: generateMeterReads({ rows: 2500, seed: 3 }).users.length,
  }
  t.deepEqual(await inspectTables(), expected)

  // The demo replaces its own database: a second run does not add to the first.
  const second = await stepping(['demo', '--rows', '2500', '--seed', '3', '--top', '3'], dir)
  t.is(second.code, 0, second.stderr)
  t.deepEqual(printedTopTable(second.stdout), expectedTopTable(2500, 3, 3))
  t.deepEqual(await inspectTables(), expected)
})

test('demo refuses to replace a file that is not a stepping database', async (t) => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'notes.db'), 'my notes')
  const r = await stepping(['demo', '--rows', '100', '--file', 'notes.db'], dir)
  t.is(r.code, 1)
  t.deepEqual(errorLines(r.stderr), ['stepping: notes.db exists and is not a stepping database; pass --file with another path'])
  t.is(readFileSync(join(dir, 'notes.db'), 'utf8'), 'my notes')
})

test('inspect lists the delays that keep no table: read from another state, sharing one, or transient', async (t) => {
  const dir = tempDir(t)
  type Edge = st.Pair<string, string>
  const graph = st.compile([st.input<Edge>(), st.input<{ id: string }>()], (edges, nodes) => {
    const paths = st.transitiveClosure(edges)
    const reached = st.join(paths, nodes, { onLeft: st.index<Edge>((p) => p.right), onRight: st.index<{ id: string }>((n) => n.id) })
    const counts = st.groupReduceFlatten(reached, { by: st.index<st.Pair<Edge, { id: string }>>((p) => p.left.left), zero: () => 0, pick: () => 1 })
    return st.outerJoin(nodes, counts, { onLeft: st.index<{ id: string }>((n) => n.id), onRight: st.index<st.Pair<number, string>>((p) => p.right) })
  })
  const store = await st.sqliteStore(join(dir, 'paths.db'), graph, { createTables: true })
  await st.iteration(store, graph, [st.zset([[st.pair('a', 'b'), 1], [st.pair('b', 'c'), 1]]), st.zset([[{ id: 'a' }, 1], [{ id: 'c' }, 1]])])
  await store.close()
  const r = await stepping(['inspect', 'paths.db'], dir)
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, /delays: 9, delay tables: 4/)
  // Field names of the rows: `id` (classes); pairs have names of their own (`{"left":`), so none for the paths.
  t.regex(r.stdout, /^ {2}field names: 1 of 4,096 in st_names$/m)
  const section = r.stdout.slice(r.stdout.indexOf('  delays without a table of their own:'))
  t.deepEqual(section.trim().split('\n').slice(1).map((l) => l.trim()), [
    "transitive_closure/delay: kept in memory during a fixed point's run (empty between runs)",
    'transitive_closure/integrate_indexed/delay: reads transitive_closure/distinct/integrate_delay/delay, its rows of positive weight, each once',
    'join/integrate_indexed/delay: reads transitive_closure/distinct/integrate_delay/delay, its rows of positive weight, each once',
    'outer_join/join/integrate_indexed/delay: shares the table of another integral of the same stream',
    "outer_join/join/integrate_delay_indexed/delay: reads group_reduce/per_group/reduce/integrate/delay, each group's totals as (sum, key)",
  ])
})

test('demo on Postgres, then inspect by URL', async (t) => {
  const dir = tempDir(t)
  const url = await freshPostgresUrl()
  const r = await stepping(['demo', '--store', 'postgres', '--url', url, '--rows', '2000', '--batch', '400', '--seed', '5', '--top', '4'], dir)
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, /^store: postgres \(postgres:\/\/.*, tables demo_\*\)/m)
  const password = decodeURIComponent(new URL(url).password)
  if (password) t.false(r.stdout.includes(`:${password}@`), 'the password is not printed')
  checkDemoSummary(t, r.stdout, 2000, 400, 5)
  t.deepEqual(printedTopTable(r.stdout), expectedTopTable(2000, 5, 4))

  const inspected = await stepping(['inspect', url], dir)
  t.is(inspected.code, 0, inspected.stderr)
  t.regex(inspected.stdout, /^PostgreSQL database \w+, schema \w+ /m)
  t.regex(inspected.stdout, /graph with table prefix "demo"/)
  t.regex(inspected.stdout, /delay tables: 6/)
  t.regex(inspected.stdout, /^ {2}field names: \d+ of 4,096 in demo_names$/m)
  const cacheLine = inspected.stdout.split('\n').find((l) => l.includes(' cache/integrate_indexed/delay '))
  t.truthy(cacheLine)
  t.is(Number(cacheLine!.trim().split(/\s+/)[2]!.replace(/,/g, '')), expectedDailyUsages(2000, 5).length)
  const readsLine = inspected.stdout.split('\n').find((l) => l.includes(' join#2/integrate_delay_indexed/delay '))!
  t.is(Number(readsLine.trim().split(/\s+/)[2]!.replace(/,/g, '')), 2000)
  t.regex(readsLine, /log of [\d,]+ chunks$/)
})

// ---------------------------------------------------------------- graph

test("graph renders a user's module to SVG with the vertex labels", async (t) => {
  const dir = tempDir(t)
  const modulePath = join(dir, 'query.mts')
  writeFileSync(
    modulePath,
    [
      `import * as st from ${JSON.stringify(join(root, 'src/index.ts'))}`,
      `type Sale = { shop: string; amount: number }`,
      `type Shop = { shop: string; city: string }`,
      `export const salesByCity = st.compile([st.input<Sale>(), st.input<Shop>()], (sales, shops) => {`,
      `  const joined = st.join(sales, shops, { onLeft: st.index<Sale>((s) => s.shop), onRight: st.index<Shop>((s) => s.shop) })`,
      `  return st.groupReduceFlatten(joined, { by: st.index<st.Pair<Sale, Shop>>((p) => p.right.city), zero: () => 0, pick: (p) => p.left.amount })`,
      `})`,
      `export const notAGraph = 42`,
    ].join('\n'),
  )
  const r = await stepping(['graph', 'query.mts', '--out', 'query.svg'], dir)
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, /^wrote query\.svg: graph "salesByCity" from query\.mts \(\d+ vertices, \d+ delays\)$/m)
  const svg = readFileSync(join(dir, 'query.svg'), 'utf8')
  t.true(svg.startsWith('<?xml') || svg.startsWith('<svg'))
  for (const label of ['⋈ join', 'per group', 'z⁻¹ delay', 'Σ aggregate', 'input 0', 'input 1']) {
    t.true(svg.includes(label), `the SVG shows "${label}"`)
  }
})

test('graph renders the meter-reads example, choosing the export by name', async (t) => {
  const dir = tempDir(t)
  const r = await stepping(['graph', join(root, 'src/examples/meterReads.ts'), '--export', 'graph', '--out', join(dir, 'meter-reads.svg')], dir)
  t.is(r.code, 0, r.stderr)
  const svg = readFileSync(join(dir, 'meter-reads.svg'), 'utf8')
  t.is((svg.match(/⋈ join/g) ?? []).length, 4, 'two incremental joins, each a pair of raw joins')
  t.true(svg.includes('per group'))
  t.is((svg.match(/z⁻¹ delay/g) ?? []).length, 6)
  t.true(svg.includes('cache/integrate_indexed/delay'))
})

test('graph explains a module without a graph, a missing export and a missing file in one line', async (t) => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'plain.mjs'), 'export const answer = 42\n')
  const cases: [string[], string][] = [
    [['graph', 'plain.mjs'], 'stepping: plain.mjs exports no compiled graph: export the result of st.compile(...)'],
    [['graph', 'plain.mjs', '--export', 'nope'], 'stepping: plain.mjs has no export named nope'],
    [['graph', 'plain.mjs', '--export', 'answer'], 'stepping: export answer of plain.mjs is not a compiled graph (the result of st.compile)'],
    [['graph', 'missing.mjs'], 'stepping: no such module: missing.mjs'],
  ]
  for (const [args, message] of cases) {
    const r = await stepping(args, dir)
    t.is(r.code, 1, args.join(' '))
    t.deepEqual(errorLines(r.stderr), [message])
  }
})

// ---------------------------------------------------------------- help and errors

test('--help describes each command', async (t) => {
  const dir = tempDir(t)
  const top = await stepping(['--help'], dir)
  t.is(top.code, 0)
  for (const command of ['demo', 'graph', 'inspect']) t.regex(top.stdout, new RegExp(`^  ${command} `, 'm'))
  const expectations: [string, RegExp[]][] = [
    ['demo', [/--store <kind>/, /"memory", "sqlite", "postgres"/, /--url <url>/, /--file <path>/, /--rows <n>/, /default: 100000/, /--batch <n>/, /--seed <n>/]],
    ['graph', [/<module>/, /--export <name>/, /--out <file>/, /default: "graph\.svg"/]],
    ['inspect', [/<target>/, /SQLite file path or a postgres:\/\/ URL/]],
  ]
  for (const [command, patterns] of expectations) {
    const r = await stepping([command, '--help'], dir)
    t.is(r.code, 0)
    t.regex(r.stdout, new RegExp(`^Usage: stepping ${command} `, 'm'))
    for (const p of patterns) t.regex(r.stdout, p)
  }
})

test('user errors are one line on stderr with a non-zero exit', async (t) => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'text.db'), 'not a database at all, just text that is long enough to have a header')
  const cases: [string[], RegExp][] = [
    [['demo', '--rows', 'many'], /^stepping: option '--rows <n>' argument 'many' is invalid\. --rows must be an integer ≥ 0 \(see --help\)$/],
    [['demo', '--store', 'redis'], /^stepping: option '--store <kind>' argument 'redis' is invalid\. Allowed choices are memory, sqlite, postgres\. \(see --help\)$/],
    [['demo', '--store', 'postgres', '--url', ''], /^stepping: --store postgres needs --url /],
    [['inspect', 'missing.db'], /^stepping: no such file: missing\.db$/],
    [['inspect', 'text.db'], /^stepping: text\.db is not a SQLite database \(file is not a database\)$/],
    [['inspect', 'postgres://nobody:secret@127.0.0.1:1/none'], /^stepping: cannot connect to postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/none: /],
    [['launch'], /^stepping: unknown command 'launch' \(see --help\)$/],
  ]
  for (const [args, message] of cases) {
    const r = await stepping(args, dir)
    t.is(r.code, 1, args.join(' '))
    const lines = errorLines(r.stderr)
    t.is(lines.length, 1, `${args.join(' ')}: ${r.stderr}`)
    t.regex(lines[0] ?? '', message)
    t.false(r.stderr.includes('    at '), 'no stack trace')
  }
})

test('an inspect of a SQLite file without stepping tables says so', async (t) => {
  const dir = tempDir(t)
  const { default: Database } = await import('better-sqlite3')
  const db = new Database(join(dir, 'other.db'))
  db.exec('CREATE TABLE things (id INTEGER PRIMARY KEY)')
  db.close()
  const r = await stepping(['inspect', 'other.db'], dir)
  t.is(r.code, 1)
  t.deepEqual(errorLines(r.stderr), ['stepping: other.db holds no stepping tables'])
})
