/**
 * `npm run bench`: the benchmark suite of issue 5.
 *
 * Plans one measurement per configuration (engine × scenario × store × backend
 * × rows × batch), runs each in a fresh child process (bench/worker.ts, or the
 * reference's Python driver) so heaps never carry over and peak RSS belongs to
 * one configuration, and writes bench/results/<name>.{json,md,svg}.
 * `npm run bench -- --help` lists the flags.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { describeMachine } from './lib/machine.js'
import { freshDatabase, startPostgres, type PgServer } from './lib/pg.js'
import { ensureNpmPeer, NPM_PEERS } from './lib/peers/npmPeer.js'
import { ensureReference, type ReferencePeer } from './lib/peers/reference.js'
import { flameGraph } from './lib/flameGraph.js'
import { readProfile, summariseProfile } from './lib/profile.js'
import { markdown, svgChart, type Report } from './lib/report.js'
import type { Backend, Engine, RunConfig, RunResult, Scenario, StoreKind } from './lib/types.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '..')

const HELP = `npm run bench -- [flags]

  --quick                 small smoke run (3,000 rows, batches of 1,000, every engine/store/backend); < 1 minute
                          once the peers are installed; writes bench/results/quick.*
  --scenario LIST         ref,wide,complex                     (default: all)
  --store LIST            memory,sqlite,postgres               (default: all)
  --backend LIST          native,ts                            (default: both; STEPPING_BACKEND per child)
  --engine LIST           stepping,reference,d2ts,tanstack,floor,recompute (default: all)
  --rows LIST             input rows per run                   (default: 10000,100000,1000000)
  --batch LIST            rows per iteration                   (default: 1,100,1000)
  --batch1-max-rows N     run batch 1 only up to N rows        (default: 10000)
  --budget S              skip a size whose time, extrapolated from the next smaller size, exceeds S seconds (default: 900)
  --time-limit S          stop any one run after S seconds of ingest and report it as partial (default: 1200)
  --lookups N             single-key cache reads timed per run (default: 200)
  --seed N                data seed (default: 42)
  --pg-url URL            use this PostgreSQL server (admin URL) instead of starting an embedded one (or BENCH_PG_URL)
  --peer-dir DIR          where the peers are installed (default: <os tmpdir>/stepping-bench-peers)
  --fresh-peers           reinstall the peers
  --cpu-prof              run our engine's workers under node --cpu-prof; write the top costs (profiles/<run>.txt) and a flame graph (profiles/<run>.svg)
  --name NAME             results file name (default: latest for a full run, quick for --quick, custom otherwise)
  --out DIR               results directory (default: bench/results)
  --keep                  keep the scratch directory (SQLite files, logs)
  --jobs N                runs at once (default: 1; 2 with --quick). Concurrent runs disturb each other's numbers:
                          use more than 1 only for smoke runs
  --rerender NAME         run nothing: rewrite NAME.md and NAME.svg (and bench/README.md for latest) from NAME.json,
                          after a change to the report
`

type Flags = ReturnType<typeof parse>

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      scenario: { type: 'string' },
      store: { type: 'string' },
      backend: { type: 'string' },
      engine: { type: 'string' },
      rows: { type: 'string' },
      batch: { type: 'string' },
      'batch1-max-rows': { type: 'string' },
      budget: { type: 'string' },
      'time-limit': { type: 'string' },
      lookups: { type: 'string' },
      seed: { type: 'string' },
      'pg-url': { type: 'string' },
      'peer-dir': { type: 'string' },
      'fresh-peers': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      name: { type: 'string' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      jobs: { type: 'string' },
      rerender: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  }).values
}

function list<T extends string>(value: string | undefined, all: readonly T[], what: string): T[] {
  if (value === undefined) return [...all]
  const items = value.split(',').map((s) => s.trim()).filter(Boolean) as T[]
  for (const i of items) if (!all.includes(i)) throw new Error(`--${what}: unknown ${JSON.stringify(i)} (one of ${all.join(', ')})`)
  return items
}

function numbers(value: string | undefined, dflt: number[]): number[] {
  if (value === undefined) return dflt
  return value.split(',').map((s) => {
    const n = Number(s.replace(/_/g, '').replace(/k$/i, '000').replace(/m$/i, '000000'))
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`not a positive integer: ${s}`)
    return n
  })
}

/** One configuration to run: the part of a run's config that the plan decides. */
type Plan = Pick<RunConfig, 'engine' | 'scenario' | 'store' | 'backend' | 'rows' | 'batch'>

/** Which engine runs which scenario on which store. */
const SUPPORTS: Record<Engine, { scenarios: Scenario[]; stores: StoreKind[] }> = {
  stepping: { scenarios: ['ref', 'wide', 'complex'], stores: ['memory', 'sqlite', 'postgres'] },
  // The issue asks for the reference-shaped and complex workloads, on SQLite and PostgreSQL.
  reference: { scenarios: ['ref', 'complex'], stores: ['sqlite', 'postgres'] },
  // d2ts: the standard pipeline, in memory and with its SQLite operators.
  d2ts: { scenarios: ['ref', 'wide'], stores: ['memory', 'sqlite'] },
  // TanStack DB: the standard pipeline as a live query over in-memory collections (it has no store of ours).
  tanstack: { scenarios: ['ref', 'wide'], stores: ['memory'] },
  floor: { scenarios: ['ref', 'wide', 'complex'], stores: ['sqlite', 'postgres'] },
  recompute: { scenarios: ['ref', 'wide', 'complex'], stores: ['sqlite', 'postgres'] },
}

function plan(f: Flags): Plan[] {
  const quick = f.quick
  const scenarios = list<Scenario>(f.scenario, ['ref', 'wide', 'complex'], 'scenario')
  const stores = list<StoreKind>(f.store, ['memory', 'sqlite', 'postgres'], 'store')
  const backends = list<Backend>(f.backend, ['native', 'ts'], 'backend')
  const engines = list<Engine>(f.engine, ['stepping', 'reference', 'd2ts', 'tanstack', 'floor', 'recompute'], 'engine')
  const rows = numbers(f.rows, quick ? [3000] : [10_000, 100_000, 1_000_000])
  const batches = numbers(f.batch, quick ? [1000] : [1, 100, 1000])
  const batch1Max = numbers(f['batch1-max-rows'], [10_000])[0]!
  const out: Plan[] = []
  for (const n of [...rows].sort((a, b) => a - b)) {
    for (const scenario of scenarios) {
      for (const store of stores) {
        for (const engine of engines) {
          if (!SUPPORTS[engine].scenarios.includes(scenario) || !SUPPORTS[engine].stores.includes(store)) continue
          // The recompute baseline is about reads: its inserts are timed at the largest batch only.
          const bs = engine === 'recompute' ? [Math.max(...batches)] : batches
          for (const batch of bs) {
            if (batch === 1 && n > batch1Max) continue
            if (batch > n) continue
            for (const backend of engine === 'stepping' ? backends : [undefined]) out.push({ engine, scenario, store, backend, rows: n, batch })
          }
        }
      }
    }
  }
  return out
}

const sameRun = (p: Plan, r: RunResult) =>
  p.engine === r.config.engine && p.scenario === r.config.scenario && p.store === r.config.store &&
  p.backend === r.config.backend && p.rows === r.config.rows && p.batch === r.config.batch
const keyOf = (p: Omit<Plan, 'rows'>) => [p.engine, p.scenario, p.store, p.backend ?? '-', p.batch].join('/')
const fmt = (n: number | undefined) => (n === undefined ? '–' : Math.round(n).toLocaleString('en-US'))

/** Run one child process to completion, killing it after `killAfterS`. */
function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv, log: string, killAfterS: number): Promise<{ code: number | null; killed: boolean }> {
  return new Promise((resolve) => {
    const fd = fs.openSync(log, 'a')
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', fd, fd] })
    let killed = false
    const timer = setTimeout(() => {
      killed = true
      child.kill('SIGKILL')
    }, killAfterS * 1000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      fs.closeSync(fd)
      resolve({ code, killed })
    })
  })
}

/** The first error line of a child's log and what follows it, or its last lines. */
function tail(file: string, n = 4): string {
  try {
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').filter((l) => l.trim() && !l.includes('Unknown user config'))
    const at = lines.findIndex((l) => /Error|error:/.test(l))
    return (at >= 0 ? lines.slice(at, at + n) : lines.slice(-n)).map((l) => l.trim()).join(' | ')
  } catch {
    return ''
  }
}

/** A full run's table and chart go into bench/README.md, between the results markers. */
function embedInReadme(latestMd: string): void {
  const readme = path.join(HERE, 'README.md')
  if (!fs.existsSync(readme)) return
  const text = fs.readFileSync(readme, 'utf8')
  const start = '<!-- results:start -->'
  const end = '<!-- results:end -->'
  const a = text.indexOf(start)
  const b = text.indexOf(end)
  if (a < 0 || b < a) return
  const body = latestMd
    .replace(/^# .*\n/, '')
    .replace(/^## /gm, '### ')
    .replace('](latest.svg)', '](results/latest.svg)')
    .trim()
  fs.writeFileSync(readme, text.slice(0, a + start.length) + '\n' + body + '\n' + text.slice(b))
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2).filter((a) => a !== '--')
  const f = parse(argv)
  if (f.help) {
    process.stdout.write(HELP)
    return
  }
  if (f.rerender !== undefined) {
    const dir = path.resolve(f.out ?? path.join(HERE, 'results'))
    const report = JSON.parse(fs.readFileSync(path.join(dir, `${f.rerender}.json`), 'utf8')) as Report
    fs.writeFileSync(path.join(dir, `${f.rerender}.md`), markdown(report))
    fs.writeFileSync(path.join(dir, `${f.rerender}.svg`), svgChart(report) + '\n')
    if (f.rerender === 'latest') embedInReadme(markdown(report))
    console.log(`rewrote ${f.rerender}.md and ${f.rerender}.svg from ${f.rerender}.json`)
    return
  }
  const custom = ['scenario', 'store', 'backend', 'engine', 'rows', 'batch'].some((k) => (f as Record<string, unknown>)[k] !== undefined)
  const mode: Report['mode'] = f.quick ? 'quick' : custom ? 'custom' : 'full'
  const name = f.name ?? (mode === 'full' ? 'latest' : mode)
  const outDir = path.resolve(f.out ?? path.join(HERE, 'results'))
  const peerRoot = path.resolve(f['peer-dir'] ?? path.join(os.tmpdir(), 'stepping-bench-peers'))
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'stepping-bench-'))
  const budget = numbers(f.budget, [900])[0]!
  const timeLimitS = numbers(f['time-limit'], [f.quick ? 30 : 1200])[0]!
  const lookups = numbers(f.lookups, [f.quick ? 50 : 200])[0]!
  const seed = numbers(f.seed, [42])[0]!
  const jobs = numbers(f.jobs, [f.quick ? 2 : 1])[0]!
  fs.mkdirSync(outDir, { recursive: true })
  const log = (s: string) => console.log(s)

  const plans = plan(f)
  const engines = new Set(plans.map((p) => p.engine))
  const startedAt = new Date().toISOString()
  const machine = describeMachine()
  log(`stepping bench (${mode}): ${plans.length} runs planned; ${machine.cpu}, ${machine.cores} cores, load ${machine.loadAverage.join(' ')}`)
  if (machine.loadAverage[0]! > machine.cores * 0.5) log(`  note: the machine is busy (load ${machine.loadAverage[0]}); numbers will be low and noisy`)

  // Peers, installed outside the repository.
  const peers: Record<string, string> = {}
  const unavailable: Partial<Record<Engine, string>> = {}
  let reference: ReferencePeer | undefined
  if (engines.has('reference')) {
    const r = ensureReference(peerRoot, log, f['fresh-peers'])
    if (typeof r === 'string') unavailable.reference = r
    else {
      reference = r
      peers.reference = `stepping==${r.version} (Python ${r.pythonVersion})`
    }
  }
  for (const engine of ['d2ts', 'tanstack'] as const) {
    if (!engines.has(engine)) continue
    const peer = NPM_PEERS[engine]
    const r = ensureNpmPeer(peerRoot, peer, log, f['fresh-peers'])
    if (typeof r === 'string') unavailable[engine] = r
    else peers[engine] = `${peer.name}@${r.version}`
  }
  for (const [e, why] of Object.entries(unavailable)) log(`  ${e}: unavailable: ${why}`)

  let pgServer: PgServer | undefined
  let pgError: string | undefined
  if (plans.some((p) => p.store === 'postgres')) {
    try {
      pgServer = await startPostgres(f['pg-url'])
      machine.postgres = pgServer.version
      const server = pgServer
      // An interrupted run still stops the server it started.
      for (const sig of ['SIGINT', 'SIGTERM'] as const) {
        process.once(sig, () => void server.stop().finally(() => process.exit(130)))
      }
      log(`  PostgreSQL ${pgServer.version} at ${pgServer.url.replace(/:[^:@/]*@/, ':***@')}`)
    } catch (e) {
      pgError = `PostgreSQL could not start: ${(e as Error).message}`
      log(`  ${pgError}`)
    }
  }

  const profDir = path.join(os.tmpdir(), 'stepping-bench-profiles')
  const results: RunResult[] = []
  const write = () => {
    const report: Report = { name, machine, mode, startedAt, finishedAt: new Date().toISOString(), argv, peers, results }
    fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(report, null, 1) + '\n')
    fs.writeFileSync(path.join(outDir, `${name}.md`), markdown(report))
    fs.writeFileSync(path.join(outDir, `${name}.svg`), svgChart(report) + '\n')
  }

  const t0 = Date.now()
  const runPlan = async (i: number, p: Plan): Promise<void> => {
    const id = `${p.engine}_${p.scenario}_${p.store}_${p.backend ?? 'x'}_${p.rows}_${p.batch}`.replace(/[^a-z0-9_]/gi, '_')
    const config: RunConfig = {
      id,
      engine: p.engine,
      scenario: p.scenario,
      store: p.store,
      backend: p.backend,
      rows: p.rows,
      batch: p.batch,
      seed,
      dir: scratch,
      pgUrl: pgServer?.url,
      peerDir: peerRoot,
      timeLimitS,
      lookups,
      out: path.join(scratch, `${id}.result.json`),
    }
    const { out: _o, dir: _d, pgUrl: _p, peerDir: _pd, ...shown } = config
    const what = `${p.engine}${p.backend ? ` (${p.backend})` : ''} ${p.scenario} ${p.store} ${fmt(p.rows)} rows × ${fmt(p.batch)}`
    const label = `[${i + 1}/${plans.length}] ${what}`
    let result: RunResult | undefined
    const skip = (status: RunResult['status'], note: string) => ({ config: shown, status, note }) as RunResult

    // Larger sizes only where they finish in reasonable time: extrapolate from the next smaller size.
    const smaller = results
      .filter((r) => keyOf({ ...r.config }) === keyOf(p) && r.config.rows < p.rows)
      .sort((a, b) => b.config.rows - a.config.rows)[0]
    if (unavailable[p.engine]) result = skip('unavailable', unavailable[p.engine]!)
    else if (p.store === 'postgres' && !pgServer) result = skip('unavailable', pgError ?? 'no PostgreSQL')
    else if (smaller && p.rows > 100_000 && smaller.status !== 'ok') {
      result = skip('skipped', `not run: the ${fmt(smaller.config.rows)}-row run was ${smaller.status}`)
    } else if (smaller && p.rows > 100_000 && smaller.seconds !== undefined) {
      const predicted = smaller.seconds * (p.rows / smaller.config.rows) * 1.25 + (smaller.setupSeconds ?? 0)
      if (predicted > budget) {
        result = skip('skipped', `not run: ~${fmt(predicted)} s extrapolated from the ${fmt(smaller.config.rows)}-row run exceeds the ${budget} s budget`)
      }
    }

    if (!result) {
      const cfgFile = path.join(scratch, `${id}.config.json`)
      const logFile = path.join(scratch, `${id}.log`)
      const started = Date.now()
      let dropDb: (() => Promise<void>) | undefined
      let cmd: string
      let args: string[]
      const env: NodeJS.ProcessEnv = { ...process.env }
      if (p.engine === 'reference') {
        const cfg: RunConfig & { dbUrl?: string } = { ...config }
        if (p.store === 'postgres') {
          const fresh = await freshDatabase(pgServer!.url, `bench_${id}`)
          cfg.dbUrl = fresh.url
          dropDb = fresh.drop
        }
        fs.writeFileSync(cfgFile, JSON.stringify(cfg))
        cmd = reference!.python
        args = [reference!.driver, cfgFile]
      } else {
        fs.writeFileSync(cfgFile, JSON.stringify(config))
        cmd = process.execPath
        args = ['--max-old-space-size=16384', '--import', 'tsx']
        if (f['cpu-prof'] && p.engine === 'stepping') {
          // One directory per run: the tsx loader's thread writes a profile of its own next to the main thread's.
          fs.rmSync(path.join(profDir, id), { recursive: true, force: true })
          fs.mkdirSync(path.join(profDir, id), { recursive: true })
          args.push('--cpu-prof', '--cpu-prof-dir', path.join(profDir, id))
        }
        args.push(path.join(HERE, 'worker.ts'), cfgFile)
        if (p.backend) env.STEPPING_BACKEND = p.backend
      }
      const { code, killed } = await runChild(cmd, args, env, logFile, timeLimitS + 600)
      await dropDb?.().catch(() => {})
      if (fs.existsSync(config.out)) {
        const r = JSON.parse(fs.readFileSync(config.out, 'utf8')) as Partial<RunResult>
        result = { ...r, config: shown } as RunResult
      } else {
        result = skip('error', killed ? `killed after ${timeLimitS + 600} s` : `exit code ${code}: ${tail(logFile)}`)
      }
      const wall = ((Date.now() - started) / 1000).toFixed(1)
      log(
        `${label}: ${result.status === 'ok' ? `${fmt(result.rowsPerSec)} rows/s` : `${result.status}${result.note ? ` (${result.note.slice(0, 160)})` : ''}`} [${wall} s]`,
      )
      if (f['cpu-prof'] && p.engine === 'stepping') {
        // The main thread's profile is the largest one.
        const dir = path.join(profDir, id)
        const prof = fs.existsSync(dir)
          ? fs
              .readdirSync(dir)
              .filter((x) => x.endsWith('.cpuprofile'))
              .map((x) => path.join(dir, x))
              .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]
          : undefined
        if (prof) {
          const summary = summariseProfile(prof, 25)
          const file = path.join(outDir, 'profiles', `${id}.txt`)
          fs.mkdirSync(path.dirname(file), { recursive: true })
          fs.writeFileSync(file, summary)
          const graph = path.join(outDir, 'profiles', `${id}.svg`)
          fs.writeFileSync(graph, flameGraph(readProfile(prof), { title: `${what} (${machine.cpu})` }).svg)
          log(`  profile: ${prof}\n  top costs: ${file}\n  flame graph: ${graph}`)
        }
      }
    } else {
      log(`${label}: ${result.status} (${result.note})`)
    }
    results.push(result)
    write()
  }
  // Sizes run in waves, smallest first, so that a larger size can be extrapolated from the finished smaller one;
  // within a wave, --jobs runs go at once (only for smoke runs: concurrent runs disturb each other's numbers).
  for (const size of [...new Set(plans.map((p) => p.rows))]) {
    const wave = [...plans.entries()].filter(([, p]) => p.rows === size)
    let next = 0
    await Promise.all(
      Array.from({ length: Math.min(jobs, wave.length) }, async () => {
        while (next < wave.length) {
          const [i, p] = wave[next++]!
          await runPlan(i, p)
        }
      }),
    )
  }
  results.sort((a, b) => plans.findIndex((p) => sameRun(p, a)) - plans.findIndex((p) => sameRun(p, b)))
  await pgServer?.stop().catch(() => {})
  if (!f.keep) fs.rmSync(scratch, { recursive: true, force: true })
  else log(`scratch kept: ${scratch}`)
  write()
  if (name === 'latest') embedInReadme(fs.readFileSync(path.join(outDir, 'latest.md'), 'utf8'))
  log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${path.join(outDir, `${name}.md`)}, .json, .svg`)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
