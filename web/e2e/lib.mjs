// SPDX-License-Identifier: MIT
// What the end-to-end tests share: Debian's chromium through playwright-core,
// the chat platform's door of the API (with its Integration token), sign in
// as a person, and screenshots under out/screenshots/. tests/web/e2e.sh
// starts serve and the UI and sets the E2E_* variables.
import { chromium } from 'playwright-core'
import path from 'node:path'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')
let axeSource = null

export const BASE = process.env.E2E_BASE
export const API = process.env.E2E_API
export const CHAT_TOKEN = process.env.E2E_CHAT_TOKEN
export const PASSWORD = process.env.E2E_PASSWORD
const SHOTS = process.env.E2E_SCREENSHOTS
if (!BASE || !API || !CHAT_TOKEN || !PASSWORD || !SHOTS) throw new Error('run these tests through tests/web/e2e.sh')

/** The caseagent CLI on serve's database (what only the CLI does, such as a
 * follow-up tick at a set time); resolves to its stdout, throws on a
 * non-zero exit with its stderr. */
export async function cli(...args) {
  return cliAt(null, ...args)
}

/** cli() with the clock set (CA_NOW, Unix seconds; null: the real time). */
export async function cliAt(epoch, ...args) {
  const bin = process.env.E2E_BIN
  const db = process.env.E2E_DB
  if (!bin || !db) throw new Error('run these tests through tests/web/e2e.sh (E2E_BIN, E2E_DB)')
  const env = epoch === null ? process.env : { ...process.env, CA_NOW: String(Math.trunc(epoch)) }
  try {
    const { stdout } = await promisify(execFile)(bin, ['--db', db, ...args], { timeout: 60000, env })
    return stdout
  } catch (e) {
    throw new Error(`caseagent ${args.join(' ')}: ${e.stderr || e.message}`)
  }
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  })
}

/** A page at 1280×800 that fails the test on a dialog (alert) or a page error. */
export async function newPage(browser, problems) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  const page = await ctx.newPage()
  page.on('dialog', async (d) => {
    problems.push(`a dialog opened: ${d.type()} ${d.message()}`)
    await d.dismiss()
  })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  return page
}

export async function signIn(page, user) {
  await page.goto(`${BASE}/`)
  await page.getByLabel('User name').fill(user)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'Workspace' }).waitFor()
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true })
}

/** One chat event through the API, as the live-chat platform posts it. */
export async function chatEvent(conversation, event) {
  const r = await fetch(`${API}/api/v1/conversations/${encodeURIComponent(conversation)}/events`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${CHAT_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(event),
  })
  const body = await r.json()
  if (r.status !== 200) throw new Error(`chat event ${event.id}: ${r.status} ${JSON.stringify(body)}`)
  return body
}

export async function message(conversation, id, role, text) {
  return chatEvent(conversation, { id: `e-${id}`, type: 'message', message: { id, role, text } })
}

/** axe-core over the page as it is now: the serious and critical violations,
 * each as "rule: target (help)". */
export async function axeViolations(page) {
  // Evaluated through the DevTools protocol, which the page's
  // Content-Security-Policy (no inline script) does not govern, as a
  // <script> tag added to the page would be.
  if (!axeSource) axeSource = await readFile(AXE, 'utf8')
  await page.evaluate(axeSource)
  const found = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ['violations'] })
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')} (${v.help})`)
  })
  return found
}

/** A screenshot, then axe-core on the same state of the page. */
export async function look(page, name) {
  await shot(page, name)
  assert.deepEqual(await axeViolations(page), [], `accessibility of ${name}`)
}

/** A person's session straight on the API: its cookie and CSRF token, and
 * a call with them. */
export async function apiSession(user) {
  const r = await fetch(`${API}/api/v1/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user, password: PASSWORD }),
  })
  if (r.status !== 200) throw new Error(`login of ${user}: ${r.status}`)
  const cookie = (r.headers.get('set-cookie') || '').split(';')[0]
  const { csrf } = await r.json()
  const call = async (method, path, body) => {
    const res = await fetch(`${API}${path}`, {
      method,
      headers: { Cookie: cookie, 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  }
  return { cookie, csrf, call }
}
