/**
 * Peer: @electric-sql/d2ts from npm, installed with `npm install --no-save`
 * into a scratch directory under the OS temp directory (not a dependency of
 * ours). Its SQLite operators are given our better-sqlite3 through its own
 * BetterSQLite3Wrapper, so its better-sqlite3 peer dependency is not installed.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { d2tsRoot } from '../engines/d2ts.js'

export const D2TS_VERSION = '0.1.8'

export function ensureD2ts(peerRoot: string, log: (s: string) => void, fresh = false): { version: string } | string {
  const dir = path.join(peerRoot, 'd2ts')
  const pkg = path.join(d2tsRoot(peerRoot), 'package.json')
  if (fresh) fs.rmSync(dir, { recursive: true, force: true })
  const version = () => (fs.existsSync(pkg) ? (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version : undefined)
  if (version() !== D2TS_VERSION) {
    log(`installing @electric-sql/d2ts@${D2TS_VERSION} into ${dir}`)
    try {
      fs.mkdirSync(dir, { recursive: true })
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'bench-d2ts', private: true, type: 'module' }))
      const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
      execFileSync(npm, ['install', '--no-save', '--no-audit', '--no-fund', '--legacy-peer-deps', '--ignore-scripts', `@electric-sql/d2ts@${D2TS_VERSION}`], {
        cwd: dir,
        stdio: 'pipe',
        timeout: 600_000,
      })
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string }
      return `npm install @electric-sql/d2ts failed: ${(err.stderr?.toString() || err.message).trim().split('\n').slice(-2).join(' ')}`
    }
    if (version() !== D2TS_VERSION) return `@electric-sql/d2ts ${D2TS_VERSION} did not install`
  }
  return { version: D2TS_VERSION }
}
