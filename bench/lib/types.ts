/** The shapes passed between the orchestrator (bench/run.ts) and one measurement process (bench/worker.ts). */
import type { Latency } from './stats.js'

export type Scenario = 'ref' | 'wide' | 'complex'
export type StoreKind = 'memory' | 'sqlite' | 'postgres'
export type Backend = 'ts' | 'native'
/**
 * stepping = us; reference = stepping==0.0.3 (Python); floor = raw upserts; recompute = plain SQL;
 * d2ts = @electric-sql/d2ts; tanstack = @tanstack/db live queries.
 */
export type Engine = 'stepping' | 'reference' | 'd2ts' | 'tanstack' | 'floor' | 'recompute'

export const SCENARIO_TITLE: Record<Scenario, string> = {
  ref: 'standard, reference-shaped (1 meter, ~31 groups)',
  wide: 'standard, wide (1,000 meters, ~31,000 groups)',
  complex: 'complex (type checker, recursive)',
}

export interface RunConfig {
  id: string
  engine: Engine
  scenario: Scenario
  store: StoreKind
  backend?: Backend
  rows: number
  batch: number
  seed: number
  /** A scratch directory this run owns (SQLite files, data files). */
  dir: string
  /** Admin connection string of the benchmark's PostgreSQL server. */
  pgUrl?: string
  /** Where the peers were installed (d2ts node_modules, Python venv). */
  peerDir?: string
  /** Stop ingesting after this many seconds and report a partial run. */
  timeLimitS: number
  /** Single-key cache reads to time. */
  lookups: number
  /** Where the worker writes its RunResult as JSON. */
  out: string
}

export interface RunResult {
  config: Omit<RunConfig, 'out' | 'dir' | 'pgUrl' | 'peerDir'>
  /** ok; partial = stopped at the time limit; skipped/unavailable = not run (see note); error. */
  status: 'ok' | 'partial' | 'skipped' | 'unavailable' | 'error'
  note?: string
  /** The backend the process actually used (st.backend). */
  backendUsed?: string
  /** Delay vertices in the compiled graph. */
  delays?: number
  setupSeconds?: number
  rowsIngested?: number
  seconds?: number
  rowsPerSec?: number
  /** Per-iteration (per batch) latency in ms. */
  iteration?: Latency
  bytesOnDisk?: number
  bytesPer100k?: number
  /** Peak resident set of the measuring process (MB); the PostgreSQL server's memory is not included. */
  peakRssMB?: number
  /** Single-key cache read (iterByIndex) latency in ms, and rows per read. */
  cacheRead?: Latency & { rowsPerRead: number }
  /** Recompute baseline: the same single-key answer by plain SQL, and the full GROUP BY once (ms). */
  recompute?: Latency & { rowsPerRead: number; fullQueryMs?: number }
  /** [rows ingested so far, rows/s over the last window]: the chart's line. */
  series?: [number, number][]
  extra?: Record<string, unknown>
}
