// Fails when a build would change the checked-in files napi generates
// (native.d.ts, the native part's types, and native.js, its loader).
//
// Builds into a temporary directory (debug unless `--release` is passed,
// reusing the artifacts of `npm run build:debug` / `npm run build`) and
// compares byte for byte; on a difference prints a diff and exits 1.
// After changing the Rust API, run `npm run build` and commit the result.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const generated = ['native.d.ts', 'native.js']
const release = process.argv.includes('--release')

const out = mkdtempSync(join(tmpdir(), 'pockyt-payouts-napi-'))
try {
  const napi = join(root, 'node_modules', '.bin', 'napi')
  const args = ['build', '--platform', '--js', 'native.js', '--dts', 'native.d.ts', '--output-dir', out]
  if (release) args.push('--release')
  const build = spawnSync(napi, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] })
  if (build.status !== 0) {
    console.error(`check:dts: napi build failed (${build.error?.message ?? `exit ${build.status}`})`)
    process.exit(1)
  }
  let stale = 0
  for (const name of generated) {
    const committed = readFileSync(join(root, name), 'utf8')
    const fresh = readFileSync(join(out, name), 'utf8')
    if (committed !== fresh) {
      stale += 1
      console.error(`check:dts: ${name} is stale; run \`npm run build\` and commit it. Diff (committed -> fresh):`)
      const diff = spawnSync('diff', ['-u', join(root, name), join(out, name)], { encoding: 'utf8' })
      console.error(diff.stdout || '(diff unavailable)')
    }
  }
  if (stale > 0) process.exit(1)
  console.log(`check:dts: ${generated.join(' and ')} are up to date`)
} finally {
  rmSync(out, { recursive: true, force: true })
}
