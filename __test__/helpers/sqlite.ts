/** SQLite for tests: each store gets a new database file in a temp directory removed when the process exits. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

let sqliteDir: string | undefined
let sqliteFiles = 0

/** A path for a new SQLite database file. */
export function freshSqlitePath(): string {
  if (!sqliteDir) {
    const dir = mkdtempSync(join(tmpdir(), 'stepping-sqlite-'))
    sqliteDir = dir
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  }
  return join(sqliteDir, `store-${++sqliteFiles}.db`)
}
