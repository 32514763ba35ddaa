/** Summarise a V8 .cpuprofile (node --cpu-prof): the functions and files that take the time. */
import fs from 'node:fs'
import path from 'node:path'

export interface CpuNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
export interface CpuProfile {
  nodes: CpuNode[]
  samples: number[]
  timeDeltas: number[]
}

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..')

export function readProfile(file: string): CpuProfile {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile
}

/** Microseconds each sample stands for: the time until the next one. */
export function sampleMicros(prof: CpuProfile, i: number): number {
  return prof.timeDeltas[i + 1] ?? prof.timeDeltas[i] ?? 0
}

/** A function as the summaries name it: name, then file (relative to the repository) and line. */
export function frameLabel(n: CpuNode): string {
  const f = n.callFrame
  const name = f.functionName || '(anonymous)'
  const at = where(f.url)
  // tsx's output keeps no useful line numbers (all on line 1): the file is enough there.
  return at ? `${name}  ${at}${f.lineNumber > 0 ? `:${f.lineNumber + 1}` : ''}` : name
}

export function where(url: string): string {
  if (!url) return ''
  const p = url.replace(/^file:\/\//, '')
  if (p.startsWith(ROOT)) return path.relative(ROOT, p)
  return p.includes('node_modules') ? p.slice(p.lastIndexOf('node_modules') + 13) : p
}

export function summariseProfile(file: string, top = 25): string {
  const prof = readProfile(file)
  const byId = new Map(prof.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const keyOf = frameLabel
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  const files = new Map<string, number>()
  let all = 0
  let idle = 0
  prof.samples.forEach((id, i) => {
    const dt = sampleMicros(prof, i)
    const n = byId.get(id)!
    if (n.callFrame.functionName === '(idle)') {
      idle += dt
      return
    }
    all += dt
    const k = keyOf(n)
    self.set(k, (self.get(k) ?? 0) + dt)
    const file = where(n.callFrame.url) || n.callFrame.functionName || '(native)'
    files.set(file, (files.get(file) ?? 0) + dt)
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const kk = keyOf(byId.get(cur)!)
      if (seen.has(kk)) continue
      seen.add(kk)
      total.set(kk, (total.get(kk) ?? 0) + dt)
    }
  })
  const table = (m: Map<string, number>, title: string, n: number) => {
    const rows = [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)
    return [title, ...rows.map(([k, v]) => `${((v / all) * 100).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(0).padStart(7)} ms  ${k}`)].join('\n')
  }
  const ignore = new Set(['(root)', '(program)', '(idle)'])
  const inclusive = new Map([...total].filter(([k]) => !ignore.has(k)))
  return [
    `${path.basename(file)}: ${(all / 1000).toFixed(0)} ms busy (+ ${(idle / 1000).toFixed(0)} ms idle); shares are of the busy time,`,
    'which includes start-up (module loading), data generation and the cache reads as well as the ingest.',
    '',
    table(self, 'self time by function:', top),
    '',
    table(files, 'self time by file:', 15),
    '',
    table(inclusive, 'inclusive time by function:', top),
    '',
  ].join('\n')
}
