/**
 * Errors the CLI reports as one line: a `CliError` is the user's to fix (a bad
 * argument, a missing file), so it is printed without a stack trace.
 */
export class CliError extends Error {
  override readonly name = 'CliError'
}

/** Error codes of Node system errors that are about the user's input or environment, not a bug. */
const USER_FACING_CODES = new Set([
  'ENOENT',
  'EACCES',
  'EPERM',
  'EISDIR',
  'ENOTDIR',
  'EEXIST',
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ERR_MODULE_NOT_FOUND',
  'ERR_UNKNOWN_FILE_EXTENSION',
  'SQLITE_NOTADB',
  'SQLITE_CANTOPEN',
  'SQLITE_CORRUPT',
  '28P01', // Postgres: password authentication failed
  '3D000', // Postgres: database does not exist
])

/** The one line to print for an error, without a stack trace. */
export function errorLine(error: unknown): string {
  if (error instanceof Error) {
    // Several library errors carry an explanation over several lines; the first says what happened.
    const first = error.message.split('\n')[0]!.replace(/^stepping:\s*/, '').trim()
    return first || error.name
  }
  return String(error)
}

/** True when the error is the user's to fix (print one line), false for bugs (also print the stack). */
export function isUserError(error: unknown): boolean {
  if (error instanceof CliError) return true
  if (!(error instanceof Error)) return true
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && USER_FACING_CODES.has(code)) return true
  // The library's own errors explain what to change: bad rows, bad graphs, mismatched stores.
  return ['UsageError', 'GraphError', 'InvalidValueError', 'StoreSchemaError', 'FrontierTimeoutError'].includes(error.name)
}
