/** What the numbers were measured on. */
import { spawnSync } from 'node:child_process'
import os from 'node:os'
import Database from 'better-sqlite3'

function version(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  if (r.status !== 0) return undefined
  return (r.stdout || r.stderr).trim().split('\n')[0]
}

export interface Machine {
  cpu: string
  cores: number
  memoryGB: number
  os: string
  node: string
  rust?: string
  python?: string
  sqlite: string
  postgres?: string
  commit?: string
  /** Load average when the run started: a busy machine makes every number worse. */
  loadAverage: number[]
}

export function describeMachine(): Machine {
  const db = new Database(':memory:')
  const sqlite = String((db.prepare('select sqlite_version() as v').get() as { v: string }).v)
  db.close()
  const commit = version('git', ['rev-parse', '--short', 'HEAD'])
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).stdout?.trim()
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    rust: version('rustc', ['--version']),
    python: version(process.env.BENCH_PYTHON ?? 'python3', ['--version']),
    sqlite,
    commit: commit ? commit + (dirty ? ' (with uncommitted changes)' : '') : undefined,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  }
}
