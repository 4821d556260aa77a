// The README's examples are the files in examples/ (which CI runs or
// type-checks), word for word, less each file's leading comment.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

const read = (path) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')

test('every example the README shows is the file it names', () => {
  const readme = read('README.md')
  const shown = [...readme.matchAll(/\[examples\/([\w.-]+)\]\(examples\/[\w.-]+\)\)?:?\n\n```\w+\n([\s\S]*?)```/g)]
  const named = shown.map(([, name]) => name)
  assert.deepEqual(named.sort(), ['errors.ts', 'ipn-server.ts', 'quickstart.cjs', 'testing.ts', 'webhook-express.mjs', 'webhook-fastify.mjs'])
  for (const [, name, code] of shown) {
    const lines = read(`examples/${name}`).split('\n')
    while (lines.length > 0 && lines[0].startsWith('//')) lines.shift()
    assert.equal(code.trim(), lines.join('\n').trim(), `README block of examples/${name}`)
  }
})
