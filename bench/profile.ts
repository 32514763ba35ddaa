/**
 * `npx tsx bench/profile.ts FILE.cpuprofile [N] [--svg OUT.svg]`: print the top
 * costs of a CPU profile; with --svg, also write its flame graph.
 */
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { flameGraph } from './lib/flameGraph.js'
import { readProfile, summariseProfile } from './lib/profile.js'

const { positionals, values } = parseArgs({ allowPositionals: true, options: { svg: { type: 'string' } } })
const [file, n] = positionals
if (!file || (n !== undefined && !/^\d+$/.test(n))) {
  console.error('usage: npx tsx bench/profile.ts FILE.cpuprofile [N] [--svg OUT.svg]')
  process.exit(2)
}
process.stdout.write(summariseProfile(file, n ? Number(n) : 30))
if (values.svg) {
  fs.writeFileSync(values.svg, flameGraph(readProfile(file), { title: path.basename(file) }).svg)
  console.log(`flame graph: ${values.svg}`)
}
