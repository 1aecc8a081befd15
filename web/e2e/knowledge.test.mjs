// SPDX-License-Identifier: MIT
// Knowledge review and the harvest end to end, in Debian's chromium against
// a real `caseagent serve` (the example settings draft an article when a
// case is resolved): a representative's case is resolved; an administrator
// opens the draft from the review queue, Publish is disabled with its
// reason while the article is not compliant, marks it compliant for external
// readers with a representative as its owner, publishes it and finds it in
// external search; a change to it is a new version in review, and its
// owner opens it from the notification; a harvest started
// from the page shows its progress and its per-record log; the insights
// page shows its figures as charts with tables.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { API, apiSession, chatEvent, launch, look, message, newPage, signIn } from './lib.mjs'

let browser
before(async () => {
  browser = await launch()
})
after(async () => {
  await browser?.close()
})



const CONV = 'e2e-kestrel-hinge'

test('a resolved case drafts an article; review, compliance, publish to external readers, external search; a harvest with progress and log', async () => {
  // A representative's chat becomes a case, resolved through the API.
  await chatEvent(CONV, { id: 'k-open', type: 'open' })
  await message(CONV, 'k1', 'customer', 'Hi, my new laptop is only half working')
  await message(CONV, 'k2', 'agent', 'Hello and welcome to Brightwire support! What exactly is happening?')
  await message(CONV, 'k3', 'customer', "The screen hinge of my Kestrel 14 laptop creaks and the lid wobbles. The left hinge screw seems loose.")
  await message(CONV, 'k4', 'agent', 'Could I have your name and the email on your order?')
  await message(CONV, 'k5', 'customer', 'Priya Vantassel, priya.vantassel@example.com')
  const accepted = await chatEvent(CONV, { id: 'k-accept', type: 'accept', actor: 'rep' })
  assert.ok(accepted.case, `a case at accept: ${JSON.stringify(accepted)}`)
  const rep = await apiSession('rep')
  const res = await fetch(`${API}/api/v1/cases/${accepted.case}/resolve`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Cookie: rep.cookie, 'X-CSRF-Token': rep.csrf },
    body: JSON.stringify({ resolution: 'Tightened the left hinge screw with a T5 driver and applied thread locker; the lid no longer wobbles.' }),
  })
  const resolved = await res.json()
  assert.equal(res.status, 200, JSON.stringify(resolved))
  const ref = resolved.knowledge?.article
  assert.ok(ref, `the knowledge agent drafted an article: ${JSON.stringify(resolved.knowledge)}`)

  const problems = []
  const page = await newPage(browser, problems)
  await signIn(page, 'ada')
  await page.getByRole('link', { name: 'Knowledge', exact: true }).click()
  await page.getByRole('heading', { name: 'Review queue' }).waitFor()
  const draftLink = page.getByRole('link', { name: new RegExp(`^${ref}:`) })
  await draftLink.waitFor({ timeout: 10000 })
  await look(page, 'knowledge')
  await draftLink.click()

  // Publish is disabled with its reason while the draft is not compliant.
  const publish = page.getByRole('button', { name: 'Publish', exact: true })
  await publish.waitFor()
  assert.equal(await publish.isDisabled(), true, 'Publish is disabled for a pending draft')
  await page.getByText('Publishing needs a compliant article: its compliance review is still pending.').waitFor()
  await look(page, 'article-draft')

  // Mark compliant for external readers, save, publish.
  await page.getByLabel('Compliance').selectOption('compliant')
  await page.getByLabel('Audience').selectOption('external')
  await page.getByLabel('Owner (the user asked to review it)').fill('rep')
  await page.getByText('Save your changes first: Publish publishes the saved version.').waitFor()
  await page.getByRole('button', { name: 'Save', exact: true }).click()
  await page.getByText('Saved.', { exact: true }).waitFor()
  assert.equal(await publish.isDisabled(), false, 'Publish is enabled once compliant and saved')
  await publish.click()
  await page.getByText('Published.', { exact: true }).waitFor()
  await page.getByText('This version is already published.').waitFor()
  await page.getByRole('button', { name: 'Rate', exact: true }).click()
  await page.getByText('Rated 5 of 5.').waitFor()
  await look(page, 'article-published')

  // A change to the published article is a new version waiting for review.
  await page.getByLabel('Resolution').fill('Tightened the left hinge screw (T5) with thread locker; if it loosens again, replace the hinge.')
  await page.getByRole('button', { name: 'Save', exact: true }).click()
  await page.getByText(/A new version v1\.1 waits for review/).waitFor()
  assert.equal(await publish.isDisabled(), true, 'Publish is disabled for the pending version')
  await page.getByText('Publishing needs a compliant article: its compliance review is still pending.').waitFor()
  await look(page, 'article-new-version')

  // External readers find it.
  await page.getByRole('link', { name: 'Back to knowledge' }).click()
  await page.getByLabel('Search text').fill('Kestrel hinge wobbles')
  await page.getByLabel('Audience').selectOption('external')
  await page.getByLabel('Search text').press('Enter') // by keyboard
  await page.getByRole('list', { name: 'Search results' }).getByRole('link', { name: new RegExp(`^${ref}:`) }).waitFor()
  await look(page, 'knowledge-search')

  // A harvest from the page: its progress reaches the total, and its log.
  await page.getByRole('link', { name: 'Harvest', exact: true }).click()
  await page.getByLabel('Records').selectOption('cases')
  await page.getByRole('button', { name: 'Start harvest' }).focus()
  await page.keyboard.press('Enter')
  const progress = page.getByLabel('Progress')
  await progress.waitFor()
  await page.getByRole('status').filter({ hasText: /records processed \((finished|done|completed)\)/ }).waitFor({ timeout: 20000 })
  const [value, max] = await Promise.all([progress.getAttribute('value'), progress.getAttribute('max')])
  assert.ok(Number(value) >= 1 && value === max, `the progress bar reached its total: ${value} of ${max}`)
  const logRow = page.locator('table', { hasText: 'Per-record log' }).locator('tbody tr').filter({ hasText: /covered|created|filtered|insufficient/ })
  await logRow.first().waitFor({ timeout: 10000 })
  await look(page, 'harvest')

  // The owner the reviewer named is told of the new version: the notification, marked read, opens it.
  const repPage = await newPage(browser, problems)
  await signIn(repPage, 'rep')
  await repPage.getByRole('link', { name: 'Knowledge', exact: true }).click()
  const notes = repPage.locator('section', { has: repPage.getByRole('heading', { name: 'Notifications' }) })
  const open = notes.getByRole('link', { name: `Open ${ref}` })
  await open.waitFor({ timeout: 10000 })
  await notes.getByRole('button', { name: 'Mark read' }).first().click()
  await notes.getByText('New:').waitFor({ state: 'detached' })
  await open.click()
  await repPage.getByRole('heading', { name: new RegExp(`^${ref}:`) }).waitFor()
  await repPage.context().close()


  // Insights: charts with their numbers in tables.
  await page.getByRole('link', { name: 'Insights', exact: true }).click()
  await page.getByText('Articles by state').waitFor()
  await page.getByRole('heading', { name: 'Agent report' }).waitFor()
  await look(page, 'insights')
  assert.deepEqual(problems, [])
  await page.context().close()
})
