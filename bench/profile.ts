/** `npx tsx bench/profile.ts FILE.cpuprofile [N]`: print the top costs of a CPU profile. */
import { summariseProfile } from './lib/profile.js'

const [file, n] = process.argv.slice(2)
if (!file) {
  console.error('usage: npx tsx bench/profile.ts FILE.cpuprofile [N]')
  process.exit(2)
}
process.stdout.write(summariseProfile(file, n ? Number(n) : 30))
