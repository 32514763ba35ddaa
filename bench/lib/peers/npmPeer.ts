/**
 * A TypeScript peer from the npm registry, installed with `npm install --no-save`
 * into its own scratch directory under the peers' root (never a dependency of ours,
 * never inside the repository). Its peer dependencies are not installed: each engine
 * hands the peer whatever it needs.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

export interface NpmPeer {
  /** The scratch directory's name under the peers' root. */
  dir: string
  /** The package's name on the registry. */
  name: string
  version: string
}

/**
 * The TypeScript peers. d2ts's SQLite operators are given our better-sqlite3 through its own
 * BetterSQLite3Wrapper; @tanstack/db brings its IVM (@tanstack/db-ivm) as a dependency.
 */
export const NPM_PEERS = {
  d2ts: { dir: 'd2ts', name: '@electric-sql/d2ts', version: '0.1.8' },
  tanstack: { dir: 'tanstack-db', name: '@tanstack/db', version: '0.15.2' },
} as const satisfies Record<string, NpmPeer>

/** The installed package's own directory. */
export function npmPeerRoot(peerRoot: string, peer: NpmPeer): string {
  return path.join(peerRoot, peer.dir, 'node_modules', ...peer.name.split('/'))
}

/** Installs `peer` unless that version is there already; a string says why it could not. */
export function ensureNpmPeer(peerRoot: string, peer: NpmPeer, log: (s: string) => void, fresh = false): { version: string } | string {
  const dir = path.join(peerRoot, peer.dir)
  const pkg = path.join(npmPeerRoot(peerRoot, peer), 'package.json')
  if (fresh) fs.rmSync(dir, { recursive: true, force: true })
  const installed = () => (fs.existsSync(pkg) ? (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version : undefined)
  if (installed() !== peer.version) {
    log(`installing ${peer.name}@${peer.version} into ${dir}`)
    try {
      fs.mkdirSync(dir, { recursive: true })
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `bench-${peer.dir}`, private: true, type: 'module' }))
      const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
      execFileSync(npm, ['install', '--no-save', '--no-audit', '--no-fund', '--legacy-peer-deps', '--ignore-scripts', `${peer.name}@${peer.version}`], {
        cwd: dir,
        stdio: 'pipe',
        timeout: 600_000,
      })
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string }
      return `npm install ${peer.name} failed: ${(err.stderr?.toString() || err.message).trim().split('\n').slice(-2).join(' ')}`
    }
    if (installed() !== peer.version) return `${peer.name} ${peer.version} did not install`
  }
  return { version: peer.version }
}
