// Reference for the "semver" scheme: node-semver in loose mode, with
// "1" / "1.2" completed with zeros (stellapolicy's documented extension).
// Reads "a<TAB>b" lines, prints -1/0/1 or ERR.
'use strict'
const SemVer = require('semver/classes/semver')
const lines = require('fs').readFileSync(0, 'utf8').split('\n')
const out = []
function parse (v) {
  try {
    return new SemVer(v, { loose: true })
  } catch (e) {
    const t = v.trim()
    if (v.length <= 256 && /^[v=\s]*\d+(\.\d+)?$/.test(t)) {
      const dots = (t.match(/\./g) || []).length
      return new SemVer(t + '.0'.repeat(2 - dots), { loose: true })
    }
    throw e
  }
}
for (const line of lines) {
  if (line === '') continue
  const [a, b] = line.split('\t')
  try {
    out.push(String(parse(a).compare(parse(b))))
  } catch (e) {
    out.push('ERR')
  }
}
process.stdout.write(out.join('\n') + '\n')
