/**
 * Peer: the reference library, stepping==0.0.3 from PyPI, installed into a
 * throwaway virtualenv under the OS temp directory (never into the repo) and
 * driven by reference_driver.py (ours), copied next to it.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REFERENCE_VERSION = '0.0.3'

export interface ReferencePeer {
  python: string
  driver: string
  pythonVersion: string
  version: string
}

function pythonVersion(python: string): string | undefined {
  const r = spawnSync(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : undefined
}

/** The venv's python with stepping installed, or a reason why not. */
export function ensureReference(peerRoot: string, log: (s: string) => void, fresh = false): ReferencePeer | string {
  const system = process.env.BENCH_PYTHON ?? 'python3'
  const sys = pythonVersion(system)
  if (!sys) return `${system} not found`
  const [major, minor] = sys.split('.').map(Number) as [number, number]
  // stepping 0.0.3 declares Requires-Python >=3.11.
  if (major < 3 || (major === 3 && minor < 11)) return `stepping ${REFERENCE_VERSION} needs Python >= 3.11, found ${sys}`
  const venv = path.join(peerRoot, `venv-stepping-${REFERENCE_VERSION}`)
  const python = path.join(venv, 'bin', 'python')
  if (fresh) fs.rmSync(venv, { recursive: true, force: true })
  const installed = () =>
    spawnSync(python, ['-c', 'import importlib.metadata as m; print(m.version("stepping"))'], { encoding: 'utf8' }).stdout?.trim()
  if (installed() !== REFERENCE_VERSION) {
    log(`installing stepping==${REFERENCE_VERSION} into ${venv}`)
    try {
      fs.mkdirSync(peerRoot, { recursive: true })
      if (!fs.existsSync(python)) execFileSync(system, ['-m', 'venv', venv], { stdio: 'pipe' })
      execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `stepping==${REFERENCE_VERSION}`], {
        stdio: 'pipe',
        timeout: 600_000,
      })
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string }
      return `pip install stepping==${REFERENCE_VERSION} failed: ${(err.stderr?.toString() || err.message).trim().split('\n').slice(-2).join(' ')}`
    }
    if (installed() !== REFERENCE_VERSION) return `stepping ${REFERENCE_VERSION} did not install`
  }
  const driver = path.join(peerRoot, 'reference_driver.py')
  fs.copyFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'reference_driver.py'), driver)
  return { python, driver, pythonVersion: pythonVersion(python) ?? sys, version: REFERENCE_VERSION }
}
