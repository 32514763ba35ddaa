// Builds the Rust addon into native/ with the napi-rs CLI (runs on `npm install` in a checkout).
// Without cargo the library still works on the pure-TS backend, so a missing toolchain only warns.
import { spawnSync } from 'node:child_process'

const cargo = spawnSync('cargo', ['--version'], { stdio: 'ignore' })
if (cargo.status !== 0) {
  console.warn('stepping: cargo not found, skipping the native addon (the pure-TS backend will be used)')
  process.exit(0)
}
const args = [
  'napi', 'build', '--platform', '--release', '--esm',
  '--manifest-path', 'crates/stepping-napi/Cargo.toml',
  '--config-path', 'crates/stepping-napi/napi.json',
  '--output-dir', 'native',
]
const result = spawnSync('npx', args, { stdio: 'inherit' })
process.exit(result.status ?? 1)
