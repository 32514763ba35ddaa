/** The README's quickstart runs as written (with `stepping` pointing at this checkout). */
import test from 'ava'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

function quickstart(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const match = /<!-- quickstart[^>]*-->\s*```ts\n([\s\S]*?)```/.exec(readme)
  if (!match) throw new Error('README has no quickstart block')
  return match[1]!
}

test('the quickstart prints what its comments say', (t) => {
  const code = quickstart().replace(`from 'stepping'`, `from ${JSON.stringify(join(root, 'src/index.ts'))}`)
  const dir = mkdtempSync(join(tmpdir(), 'stepping-readme-'))
  const file = join(dir, 'quickstart.mts')
  writeFileSync(file, code)
  const out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8' })
  t.regex(out, /│\s+1 │\s+11 │\s+1 │/)
  t.regex(out, /\{ left: 11, right: 1 \}, -1 \]/)
  t.regex(out, /\{ left: 13, right: 1 \}, 1 \]/)
  t.regex(out, /Basket id: 1 total: \$13 1\n/)
  t.notRegex(out, /\$11 1\n/)
})
