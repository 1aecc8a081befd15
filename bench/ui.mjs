// SPDX-License-Identifier: MIT
// The figures of bench/ui.sh (which prepares the database and starts serve):
// - the built UI's JavaScript, gzip (level 9, as a server would send it):
//   every chunk under web/dist/assets, and what the first page loads (the
//   entry script and the chunks index.html preloads), target <= 250 KB;
// - the time from page.goto of the workspace to the case list rendered (its
//   first page of 50 rows, of UI_CASES in the database) and a control usable
//   (the search box takes typing), target <= 1 s: cold (a new browser
//   context, nothing cached; the session cookie set beforehand) and warm
//   (the same context again: assets from the cache), median of RUNS;
// - then, after a warm load, the time to show every case by "More cases".
// Figures only: it never fails on them.
import { createRequire } from 'node:module'
import { readdir, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { chromium } = createRequire(path.join(ROOT, 'web', 'package.json'))('playwright-core')
const BASE = process.env.UI_BASE
const USER = process.env.UI_USER
const PASSWORD = process.env.UI_PASSWORD
const NCASES = Number(process.env.UI_CASES || 500)
const DIST = process.env.UI_DIST || path.join(ROOT, 'web', 'dist')
const RUNS = Number(process.env.UI_RUNS || 5)
if (!BASE || !USER || !PASSWORD) throw new Error('run through bench/ui.sh')

const kb = (n) => (n / 1000).toFixed(1)
const verdict = (ok) => (ok ? 'ok' : 'MISSED')
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// ---- JavaScript size ----
const assets = path.join(DIST, 'assets')
const js = (await readdir(assets)).filter((f) => f.endsWith('.js'))
const gz = new Map()
for (const f of js) gz.set(f, gzipSync(await readFile(path.join(assets, f)), { level: 9 }).length)
const total = [...gz.values()].reduce((a, b) => a + b, 0)
const index = await readFile(path.join(DIST, 'index.html'), 'utf8')
const first = [...index.matchAll(/(?:src|href)="\/assets\/([^"]+\.js)"/g)].map((m) => m[1])
const firstGz = first.reduce((a, f) => a + (gz.get(f) ?? 0), 0)
console.log(`  JavaScript, gzip (KB)   ${kb(total).padStart(8)}   all ${js.length} chunks; target <= 250: ${verdict(total <= 250000)}`)
console.log(`  first page, gzip (KB)   ${kb(firstGz).padStart(8)}   what index.html loads first: the entry and its preloads (${first.length} files)`)

// ---- time to an interactive workspace ----
const login = await fetch(`${BASE}/api/v1/session`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ user: USER, password: PASSWORD }),
})
if (login.status !== 200) throw new Error(`sign-in of ${USER}: ${login.status}`)
const [pair] = (login.headers.get('set-cookie') || '').split(';')
const eq = pair.indexOf('=')
const cookie = { name: pair.slice(0, eq), value: pair.slice(eq + 1), url: BASE }

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
})

/** ms from page.goto('/') to 50 case rows shown and the search box typed into. */
async function interactive(page) {
  const t0 = performance.now()
  await page.goto(`${BASE}/`)
  await page.locator('table.cases tbody tr').nth(Math.min(NCASES, 50) - 1).waitFor()
  const search = page.getByLabel('Search cases')
  await search.fill('x') // waits until it is visible, enabled and editable
  const t = performance.now() - t0
  await search.fill('')
  return t
}

try {
  const cold = []
  const warm = []
  let last = null
  for (let i = 0; i < RUNS; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    await ctx.addCookies([cookie])
    const page = await ctx.newPage()
    cold.push(await interactive(page))
    warm.push(await interactive(page))
    if (last) await last.close()
    last = ctx
  }
  console.log(`  load average            ${os.loadavg()[0].toFixed(1).padStart(8)}   (1 min, ${os.cpus().length} cores: other work on the machine slows the browser)`)
  console.log(`  interactive, cold (ms)  ${median(cold).toFixed(0).padStart(8)}   median of ${RUNS} (${cold.map((t) => t.toFixed(0)).join(', ')}); target <= 1000: ${verdict(median(cold) <= 1000)}`)
  console.log(`  interactive, warm (ms)  ${median(warm).toFixed(0).padStart(8)}   median of ${RUNS} (${warm.map((t) => t.toFixed(0)).join(', ')}); target <= 1000: ${verdict(median(warm) <= 1000)}`)

  // Every case in the list: "More cases" until there are no more.
  const page = last.pages()[0]
  const t0 = performance.now()
  const rows = page.locator('table.cases tbody tr')
  const more = page.getByRole('button', { name: 'More cases' })
  while (await more.count()) {
    const before = await rows.count()
    await more.click()
    await rows.nth(before).waitFor()
  }
  const all = performance.now() - t0
  console.log(`  all ${String(await rows.count()).padEnd(4)} rows (ms)     ${all.toFixed(0).padStart(8)}   from the first page, by "More cases" (50 a page)`)
  await last.close()
} finally {
  await browser.close()
}
