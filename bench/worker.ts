/**
 * One measurement in a fresh process: `tsx bench/worker.ts <config.json>`.
 * The orchestrator (bench/run.ts) starts one of these per configuration, with
 * STEPPING_BACKEND set, so every number comes from a clean heap and peak RSS
 * belongs to that configuration alone. The result goes to `config.out` as JSON.
 */
import fs from 'node:fs'
import type { RunConfig, RunResult } from './lib/types.js'

async function main(): Promise<void> {
  const file = process.argv[2]
  if (!file) throw new Error('usage: tsx bench/worker.ts <config.json>')
  const c = JSON.parse(fs.readFileSync(file, 'utf8')) as RunConfig
  const { out, dir: _dir, pgUrl: _pg, peerDir: _peer, ...config } = c
  let partial: Partial<RunResult>
  try {
    switch (c.engine) {
      case 'stepping':
        partial = await (await import('./lib/engines/stepping.js')).runStepping(c)
        break
      case 'floor':
        partial = await (await import('./lib/engines/floor.js')).runFloor(c)
        break
      case 'recompute':
        partial = await (await import('./lib/engines/recompute.js')).runRecompute(c)
        break
      case 'd2ts':
        partial = await (await import('./lib/engines/d2ts.js')).runD2ts(c)
        break
      case 'tanstack':
        partial = await (await import('./lib/engines/tanstack.js')).runTanstack(c)
        break
      default:
        throw new Error(`the worker does not run engine ${c.engine}`)
    }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    if (c.backend === 'native' && message.includes('native addon did not load')) {
      partial = { status: 'unavailable', note: 'native addon not built (npm run build:native)' }
    } else partial = { status: 'error', note: e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 4).join(' | ') : String(e) }
  }
  const result: RunResult = { config, status: 'ok', ...partial } as RunResult
  fs.writeFileSync(out, JSON.stringify(result))
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  },
)
