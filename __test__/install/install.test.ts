/**
 * What `npm install stepping` gives a user: build the package and this
 * machine's native addon, `npm pack` the main package and the platform package
 * (npm/<triple>), install both from the tarballs into a fresh project, and run
 * a query there (native backend); then
 * install the main package alone and run the same query (pure-TS backend, one
 * warning line).
 *
 * Dependencies resolve from the npm cache filled by the checkout's own
 * `npm install` (`--prefer-offline`: that install follows the lock, so the
 * cache may lack a dependency's metadata, which then comes from the registry;
 * with `--offline` such a cache failed with ENOTCACHED). The tarballs are
 * always the local ones. better-sqlite3 would build from source here; to keep
 * this test to about a minute its install script is handed the checkout's
 * already-built binary through prebuild-install's local-prebuilds directory
 * (falling back to a source build, with npm_config_nodedir, if that is absent).
 */
import test, { type ExecutionContext } from 'ava'
import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { platformTriple } from '../../src/native/binding.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string
  version: string
  optionalDependencies?: Record<string, string>
}
const triple = platformTriple()
const isWindows = process.platform === 'win32'
const STEP_TIMEOUT_MS = 8 * 60_000

const work = mkdtempSync(join(tmpdir(), 'stepping-install-'))
test.after.always(() => rmSync(work, { recursive: true, force: true }))

/** The environment of every child: no backend override from the test run, no network chatter. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' }
  // `npm test` runs the suite a second time with STEPPING_BACKEND=ts; the installed package must choose by itself.
  delete env.STEPPING_BACKEND
  delete env.NAPI_RS_NATIVE_LIBRARY_PATH
  // Where Node's headers live in /usr (Debian's nodejs), node-gyp must use them rather than download them.
  if (existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr'
  return { ...env, ...extra }
}

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = childEnv()): Promise<Run> {
  return new Promise((resolve, reject) => {
    // npm and bin shims are .cmd files on Windows, which only a shell runs (node.exe itself needs none).
    const child = spawn(command, args, { cwd, env, shell: isWindows && /\.cmd$/i.test(command) })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

async function ok(t: ExecutionContext, command: string, args: readonly string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Run> {
  const r = await run(command, args, cwd, env)
  t.is(r.code, 0, `${command} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`)
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${r.code}`)
  return r
}

const npm = isWindows ? 'npm.cmd' : 'npm'

interface Packed {
  readonly filename: string
  readonly files: { path: string }[]
}

async function pack(t: ExecutionContext, dir: string): Promise<Packed> {
  // Scripts are off: the build already ran, and `prepare` would rebuild the addon.
  const r = await ok(t, npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], dir)
  return (JSON.parse(r.stdout) as Packed[])[0]!
}

/** A tarball of the checkout's built better-sqlite3 binary, named as prebuild-install looks it up. */
async function betterSqlitePrebuild(t: ExecutionContext): Promise<string | undefined> {
  const moduleDir = join(root, 'node_modules', 'better-sqlite3')
  const binary = join(moduleDir, 'build', 'Release', 'better_sqlite3.node')
  if (!existsSync(binary)) return undefined
  const { version } = JSON.parse(readFileSync(join(moduleDir, 'package.json'), 'utf8')) as { version: string }
  const libc = triple.endsWith('-musl') ? 'musl' : ''
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}${libc}-${process.arch}.tar.gz`
  const staging = join(work, 'prebuild-staging')
  mkdirSync(join(staging, 'build', 'Release'), { recursive: true })
  copyFileSync(binary, join(staging, 'build', 'Release', 'better_sqlite3.node'))
  const prebuilds = join(work, 'prebuilds')
  mkdirSync(prebuilds, { recursive: true })
  await ok(t, 'tar', ['-czf', join(prebuilds, name), 'build'], staging)
  return prebuilds
}

/** A fresh project, with the tarballs installed (dependencies from the cache where it has them). */
async function installInto(t: ExecutionContext, name: string, tarballs: readonly string[], npmFlags: readonly string[] = []): Promise<string> {
  const dir = join(work, name)
  mkdirSync(dir)
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name, private: true, type: 'module', allowScripts: { 'better-sqlite3': true, 'msgpackr-extract': true } }, null, 2),
  )
  writeFileSync(join(dir, 'query.mjs'), QUERY_SCRIPT)
  const env = childEnv(prebuildsDir ? { npm_config_better_sqlite3_local_prebuilds: prebuildsDir } : {})
  await ok(t, npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', ...npmFlags, ...tarballs.map((f) => join(work, f))], dir, env)
  return dir
}

/** The user's script: a join and a grouped sum, inserted then retracted; prints what it saw as JSON. */
const QUERY_SCRIPT = `
import * as st from 'stepping'

const totals = st.compile([st.input(), st.input()], (products, lineItems) => {
  const joined = st.join(products, lineItems, {
    onLeft: st.index((p) => p.name),
    onRight: st.index((l) => l.productName),
  })
  return st.groupReduceFlatten(joined, {
    by: st.index((p) => p.right.basketId),
    zero: () => 0,
    pick: (p) => p.left.price * p.right.qty,
  })
})
const store = st.memoryStore(totals)
const [products, lineItems] = st.actions(store, totals)
const changes = []
const record = ([z]) => changes.push([...z.iter()].sort((a, b) => a[0].right - b[0].right || a[1] - b[1]))
record(await products.insert({ name: 'tv', price: 300 }, { name: 'radio', price: 20 }))
record(await lineItems.insert({ basketId: 1, productName: 'tv', qty: 1 }, { basketId: 1, productName: 'radio', qty: 2 }, { basketId: 2, productName: 'radio', qty: 5 }))
record(await products.replace({ name: 'radio', price: 20 }, { name: 'radio', price: 25 }))
console.log(JSON.stringify({ backend: st.backend, changes }))
`

const EXPECTED_CHANGES = [
  [],
  [
    [{ left: 340, right: 1 }, 1],
    [{ left: 100, right: 2 }, 1],
  ],
  [
    [{ left: 340, right: 1 }, -1],
    [{ left: 350, right: 1 }, 1],
    [{ left: 100, right: 2 }, -1],
    [{ left: 125, right: 2 }, 1],
  ],
]

const platformPackageName = `${rootPackage.name}-${triple}`
let mainTarball: string | undefined
let platformTarball: string | undefined
let prebuildsDir: string | undefined

test.serial('npm pack ships compiled JS and types only, and the platform package ships the addon', async (t) => {
  t.timeout(STEP_TIMEOUT_MS)
  await ok(t, npm, ['run', 'build'], root)

  // This machine's addon, as CI builds it for each platform package.
  const binaryName = `stepping.${triple}.node`
  const binary = join(root, 'native', binaryName)
  if (!existsSync(binary)) await ok(t, npm, ['run', 'build:native'], root)
  t.true(existsSync(binary), `native/${binaryName} was not built (needs cargo; see scripts/build-native.mjs)`)

  const main = await pack(t, root)
  const paths = main.files.map((f) => f.path).sort()
  t.deepEqual(
    paths.filter((p) => !(p === 'package.json' || p === 'README.md' || /^dist\/.+\.(js|d\.ts)$/.test(p))),
    [],
    'nothing but package.json, README.md and dist/**/*.{js,d.ts}',
  )
  for (const required of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/native/binding.js']) {
    t.true(paths.includes(required), `${required} is in the tarball`)
  }
  t.false(paths.some((p) => /^(src|__test__|crates|native|target|npm|bench|scripts)\//.test(p) || p.endsWith('.rs') || p.endsWith('.node')))

  // The platform package, staged outside the checkout so that npm/ never holds a binary.
  const platformDir = join(root, 'npm', triple)
  t.true(existsSync(join(platformDir, 'package.json')), `npm/${triple} exists for this platform`)
  const staged = join(work, 'platform-package')
  mkdirSync(staged)
  for (const file of ['package.json', 'README.md']) copyFileSync(join(platformDir, file), join(staged, file))
  copyFileSync(binary, join(staged, binaryName))
  const platform = await pack(t, staged)
  t.deepEqual(platform.files.map((f) => f.path).sort(), ['README.md', binaryName, 'package.json'].sort())

  const platformManifest = JSON.parse(readFileSync(join(platformDir, 'package.json'), 'utf8')) as { name: string; version: string; main: string }
  t.is(platformManifest.name, platformPackageName)
  t.is(platformManifest.version, rootPackage.version)
  t.is(platformManifest.main, binaryName)
  t.is(rootPackage.optionalDependencies?.[platformPackageName], rootPackage.version, 'the main package depends on it at the same version')

  mainTarball = main.filename
  platformTarball = platform.filename
  prebuildsDir = await betterSqlitePrebuild(t)
})

test.serial('installed with the platform package: the query runs on the native backend', async (t) => {
  t.timeout(STEP_TIMEOUT_MS)
  if (!mainTarball || !platformTarball) return t.fail('packing failed')
  const project = await installInto(t, 'with-native', [mainTarball, platformTarball])
  t.true(existsSync(join(project, 'node_modules', platformPackageName)))

  const r = await ok(t, process.execPath, ['query.mjs'], project)
  t.deepEqual(JSON.parse(r.stdout), { backend: 'native', changes: EXPECTED_CHANGES })
  t.is(r.stderr, '', 'no warning')

  // The bin works from the installed package, on the SQLite store by default.
  const bin = join(project, 'node_modules', '.bin', isWindows ? 'stepping.cmd' : 'stepping')
  const demo = await ok(t, bin, ['demo', '--rows', '1500', '--top', '3'], project)
  t.regex(demo.stdout, /^store: sqlite \(\.\/stepping-demo\.db\) · backend: native$/m)
  t.regex(demo.stdout, /^top 3 daily usages$/m)
  const inspect = await ok(t, bin, ['inspect', 'stepping-demo.db'], project)
  t.regex(inspect.stdout, /delay tables: 6/)
})

test.serial('installed alone: the same query runs on the TS backend with one warning', async (t) => {
  t.timeout(STEP_TIMEOUT_MS)
  if (!mainTarball) return t.fail('packing failed')
  // --omit=optional: once this version is published, the npm cache may hold the real platform package.
  const project = await installInto(t, 'ts-only', [mainTarball], ['--omit=optional'])
  t.false(existsSync(join(project, 'node_modules', platformPackageName)), 'the optional platform package is not there')

  const r = await ok(t, process.execPath, ['query.mjs'], project)
  t.deepEqual(JSON.parse(r.stdout), { backend: 'ts', changes: EXPECTED_CHANGES })
  const warnings = r.stderr.split('\n').filter((l) => l.trim() !== '')
  t.is(warnings.length, 1, r.stderr)
  t.regex(warnings[0] ?? '', new RegExp(`^stepping: native addon not found for ${triple}; using the pure-TS backend`))
})
