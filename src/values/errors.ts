/** Errors a user can act on: each names what was wrong and where. */

/** A row (or part of one) that stepping cannot store: names the path inside the value. */
export class InvalidValueError extends Error {
  override readonly name = 'InvalidValueError'
  constructor(
    readonly reason: string,
    readonly path: string,
    readonly where = '',
  ) {
    super(`${where ? where + ': ' : ''}invalid value at ${path || '(root)'}: ${reason}`)
  }

  /** The same error with the place it came from (an input, a row number) in front. */
  at(where: string): InvalidValueError {
    return new InvalidValueError(this.reason, this.path, this.where ? `${where}, ${this.where}` : where)
  }
}

/** A query that cannot be compiled: unclosed feedback, a cycle without delay, mixed graphs... */
export class GraphError extends Error {
  override readonly name = 'GraphError'
}

/** Bad arguments to the runtime: wrong arity, a zod validation failure, a store mismatch... */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}
