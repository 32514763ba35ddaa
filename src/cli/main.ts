#!/usr/bin/env node
/**
 * The `stepping` command line: `demo` (the meter-reads example on a generated
 * data set), `graph` (render a user's compiled graph to SVG) and `inspect`
 * (what a SQLite file or Postgres database holds). Errors print as one line on
 * stderr with a non-zero exit; `STEPPING_DEBUG=1` adds the stack trace.
 */
import { readFileSync } from 'node:fs'
import { Command, InvalidArgumentError, Option } from 'commander'
import { runDemo, STORE_KINDS, type StoreKind } from './demo.js'
import { errorLine, isUserError } from './errors.js'
import { runGraph } from './graph.js'
import { runInspect } from './inspect.js'

function integerOption(name: string, minimum: number) {
  return (text: string): number => {
    const n = Number(text.replace(/_/g, ''))
    if (!Number.isSafeInteger(n) || n < minimum) throw new InvalidArgumentError(`${name} must be an integer ≥ ${minimum}`)
    return n
  }
}

/** The package version: package.json sits two levels up from both src/cli/ and dist/cli/. */
function packageVersion(): string {
  const json = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }
  return json.version ?? '0.0.0'
}

function program(): Command {
  const cli = new Command('stepping')
    .description('Incremental view maintenance (DBSP) for TypeScript: run the demo, draw graphs, inspect stores.')
    .version(packageVersion())
    // Commander's own errors (unknown option, bad value) in the same one-line form as ours.
    .configureOutput({ outputError: (text, write) => write(`stepping: ${text.replace(/^error:\s*/, '').trim()} (see --help)\n`) })

  cli
    .command('demo')
    .description(
      'Ingest a generated meter-reads data set (users ⋈ meters ⋈ half-hourly reads, summed per user, meter and day) ' +
        'and print the top daily usages read from the indexed cache.',
    )
    .addOption(new Option('--store <kind>', 'where state is kept').choices(STORE_KINDS).default('sqlite'))
    .option('--file <path>', 'SQLite file for --store sqlite (replaced if it holds an earlier demo)', './stepping-demo.db')
    .option('--url <url>', 'Postgres URL for --store postgres (default: $DATABASE_URL)')
    .option('--rows <n>', 'half-hourly reads to ingest', integerOption('--rows', 0), 100_000)
    .option('--batch <n>', 'reads per iteration', integerOption('--batch', 1), 1000)
    .option('--seed <n>', 'seed of the generated data', integerOption('--seed', 0), 1)
    .option('--top <n>', 'rows in the table of top daily usages', integerOption('--top', 1), 10)
    .action(async (o: { store: StoreKind; file: string; url?: string; rows: number; batch: number; seed: number; top: number }) => {
      await runDemo(
        { store: o.store, file: o.file, url: o.url ?? process.env.DATABASE_URL, rows: o.rows, batch: o.batch, seed: o.seed, top: o.top },
        { stream: process.stdout, isTTY: process.stdout.isTTY === true },
      )
    })

  cli
    .command('graph')
    .description('Render the compiled graph (an st.compile result) exported by a module to SVG.')
    .argument('<module>', 'a .js/.mjs module, or .ts with tsx installed')
    .option('--export <name>', 'the export holding the graph (default: "default", "graph", or the only graph exported)')
    .option('--out <file>', 'SVG file to write', 'graph.svg')
    .action(async (modulePath: string, o: { export?: string; out: string }) => {
      await runGraph(modulePath, { export: o.export, out: o.out }, (line) => process.stdout.write(line + '\n'))
    })

  cli
    .command('inspect')
    .description('List the delay tables of the stepping graphs in a SQLite file or Postgres database: rows, sizes, fingerprint.')
    .argument('<target>', 'a SQLite file path or a postgres:// URL')
    .action(async (target: string) => {
      await runInspect(target, (text) => process.stdout.write(text + '\n'))
    })

  return cli
}

async function main(argv: readonly string[]): Promise<void> {
  try {
    await program().parseAsync([...argv])
  } catch (e) {
    const hint = isUserError(e) || process.env.STEPPING_DEBUG ? '' : ' (set STEPPING_DEBUG=1 for the stack trace)'
    process.stderr.write(`stepping: ${errorLine(e)}${hint}\n`)
    if (process.env.STEPPING_DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n')
    process.exitCode = 1
  }
}

await main(process.argv)
