/**
 * Vacuuming of the PostgreSQL store's own tables, in the background.
 *
 * State tables turn over fast: every change to a group retracts its old row and
 * inserts the new one (the integral of a delta, DBSP section 3), so a table of
 * 31,000 groups can leave 26,000 dead rows a second behind. Until they are
 * vacuumed every read by key visits them, and a table never analyzed is read by
 * sequential scan. Autovacuum looks at a database once a minute (its default
 * naptime), which lets millions of dead rows pile up at that pace. So the store
 * counts the rows it writes to each table and, once they reach a fifth of the
 * table's rows (and at least VACUUM_MIN_ROWS), runs `VACUUM (ANALYZE)` on it from
 * the pool, one table at a time, while iterations go on (VACUUM takes no lock
 * that writers wait for). Bench `wide` at 1M rows, alternated: 10,622/10,648 ->
 * 15,855/16,466 rows/s.
 */
import type pg from 'pg'

/** Rows written to a table before it is worth a vacuum, however small the table. */
export const VACUUM_MIN_ROWS = 10_000
/** ... and the share of its rows (PostgreSQL's autovacuum_vacuum_scale_factor is the same fifth). */
const VACUUM_SHARE = 0.2

export class TableVacuum {
  private readonly written = new Map<string, number>()
  /** Rows to write before the next look at a table: VACUUM_MIN_ROWS, or a fifth of its rows when last seen. */
  private readonly threshold = new Map<string, number>()
  private running: Promise<void> | undefined
  /** Vacuums run so far, per table (`PostgresStore.vacuums`). */
  readonly vacuumed = new Map<string, number>()

  constructor(
    private readonly pool: pg.Pool,
    readonly enabled: boolean,
  ) {}

  /** `rows` rows of `table` were written (upserted, deleted or replaced): each may leave a dead row. */
  note(table: string, rows: number): void {
    if (!this.enabled || rows === 0) return
    this.written.set(table, (this.written.get(table) ?? 0) + rows)
  }

  /** After a commit: vacuum, in the background, the tables written enough since their last vacuum. */
  poke(): void {
    if (!this.enabled || this.running) return
    const due = [...this.written].filter(([t, n]) => n >= (this.threshold.get(t) ?? VACUUM_MIN_ROWS)).map(([t]) => t)
    if (due.length === 0) return
    this.running = this.vacuum(due)
      // Maintenance only: a failure (a dropped connection) leaves the counts standing, so a later
      // commit tries again; iterations never see it. (A table another role owns is skipped by
      // PostgreSQL with a warning, not an error.)
      .catch(() => undefined)
      .finally(() => {
        this.running = undefined
      })
  }

  private async vacuum(tables: string[]): Promise<void> {
    const sizes = await this.pool.query<{ name: string; rows: number }>(
      `SELECT t.name, greatest(c.reltuples, 0)::float8 AS rows FROM unnest($1::text[]) AS t (name) JOIN pg_class c ON c.oid = to_regclass(t.name)`,
      [tables],
    )
    for (const { name, rows } of sizes.rows) {
      const need = Math.max(VACUUM_MIN_ROWS, VACUUM_SHARE * rows)
      this.threshold.set(name, need)
      const written = this.written.get(name) ?? 0
      if (written < need) continue
      // SKIP_LOCKED: if autovacuum (or anyone) is at it already, leave it be rather than wait.
      // `name` is a generated table name of the layout, checked when the layout was made.
      await this.pool.query(`VACUUM (ANALYZE, SKIP_LOCKED) ${name}`)
      // Rows written while it ran count towards the next one.
      this.written.set(name, (this.written.get(name) ?? 0) - written)
      this.vacuumed.set(name, (this.vacuumed.get(name) ?? 0) + 1)
    }
  }

  /** Wait for the vacuum under way, if any (before the pool is ended). */
  async settled(): Promise<void> {
    await this.running
  }
}
