// SPDX-License-Identifier: MIT
// The follow-up agent's suggested-actions card end to end, in Debian's
// chromium against a real `caseagent serve`: the settings get a follow-up
// rule at level confirm (cases waiting for the customer), four open cases
// owned by the representative (whose Default profile enables autonomous
// follow-up and closure) are imported, and a tick of the follow-up agent at
// a set time (`caseagent followup run --now`, three days on) queues a
// suggestion on each, sending nothing. Then, as the representative, on
// each case's page: Review and send email (the edited e-mail is in the
// outbox), Draft reply (the reply editor holds the draft), Resolve case
// (the resolve dialog proposes the resolution with its evidence; the case
// is resolved); after each the card is gone. And once the customer answers
// (an e-mail a day after the tick), the card is gone on the next refresh.
// The settings are put back at the end, and the notifications the
// resolution brought the representative are marked read.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { BASE, apiSession, cli, cliAt, launch, look, newPage, signIn } from './lib.mjs'

const RULE = {
  name: 'e2e waiting for customer',
  trigger: { status_reason: 'waiting_for_customer' },
  followups: 2,
  wait: { hours: 48 },
  level: 'confirm',
  after_last: 'suggest_resolve',
}

const CASES = [
  { title: 'e2e follow-up: earbuds will not charge', description: 'The left earbud does not charge in its case.', customer: 'C-pvantassel' },
  { title: 'e2e follow-up: speaker drops Wi-Fi', description: 'The smart speaker loses the Wi-Fi connection every evening.', customer: 'C-hmorcombe' },
  { title: 'e2e follow-up: charged twice', description: 'My card was charged twice for one order.', customer: 'C-hmorcombe' },
  { title: 'e2e follow-up: parcel late', description: 'The parcel has not arrived.', customer: 'C-pvantassel' },
]

let browser
let admin
let rep
let original = null
const refs = []
let tick = 0 // the follow-up tick's time, Unix seconds

/** The case's pending suggestion, as the API has it. */
async function suggestionOf(ref) {
  const r = await rep.call('GET', `/api/v1/cases/${ref}/suggestion`)
  assert.equal(r.status, 200, JSON.stringify(r.body))
  return r.body.suggestion
}

before(async () => {
  browser = await launch()
  admin = await apiSession('ada')
  rep = await apiSession('rep')
  const got = await admin.call('GET', '/api/v1/settings')
  assert.equal(got.status, 200)
  original = got.body
  const settings = structuredClone(original)
  settings.followup = { ...(settings.followup || {}), rules: [RULE, ...((settings.followup && settings.followup.rules) || [])] }
  const put = await admin.call('PUT', '/api/v1/settings', settings)
  assert.equal(put.status, 200, `the follow-up rule is accepted: ${JSON.stringify(put.body)}`)

  // Three open cases the representative owns, waiting for the customer.
  const dir = await mkdtemp(path.join(tmpdir(), 'ca-e2e-followup-'))
  try {
    const file = path.join(dir, 'cases.jsonl')
    const lines = CASES.map((c) => JSON.stringify({ fields: { ...c, status: 'active', status_reason: 'waiting_for_customer', owner: 'rep' } }))
    await writeFile(file, lines.join('\n') + '\n')
    await cli('import', 'cases', file)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  const list = await rep.call('GET', '/api/v1/cases?owner=rep&limit=200')
  for (const c of CASES) {
    const found = list.body.cases.find((k) => (k.fields?.title ?? k.title) === c.title)
    assert.ok(found, `the imported case "${c.title}" is listed: ${JSON.stringify(list.body.cases.slice(0, 3))}`)
    refs.push(found.ticket_number)
  }

  // The agent's tick three days on: at level confirm it suggests, and sends nothing.
  const outboxBefore = (await rep.call('GET', '/api/v1/email/outbox')).body.outbox.length
  tick = Math.trunc(Date.now() / 1000) + 3 * 86400
  const now = new Date(tick * 1000).toISOString().replace(/\.\d+Z$/, 'Z')
  const run = JSON.parse(await cli('--json', 'followup', 'run', '--now', now))
  for (const ref of refs) {
    const s = await suggestionOf(ref)
    assert.ok(s, `a suggestion on ${ref} after the tick: ${JSON.stringify(run)}`)
    assert.equal(s.rule, RULE.name)
  }
  const outboxAfter = (await rep.call('GET', '/api/v1/email/outbox')).body.outbox.length
  assert.equal(outboxAfter, outboxBefore, 'at level confirm nothing is queued until a person accepts')
})

after(async () => {
  // The resolved case may have drafted an article, telling its owner: the
  // other tests count the representative's notifications from none.
  const mine = rep ? await rep.call('GET', '/api/v1/notifications') : null
  for (const n of mine?.body?.notifications ?? []) if (!n.read_at) await rep.call('POST', `/api/v1/notifications/${n.id}/read`, {})
  if (original) {
    const put = await admin.call('PUT', '/api/v1/settings', original)
    assert.equal(put.status, 200, `the settings put back: ${JSON.stringify(put.body)}`)
  }
  await browser?.close()
})

/** A page signed in as `user`, and the list its problems go to. */
async function signedIn(user) {
  const problems = []
  const page = await newPage(browser, problems)
  await signIn(page, user)
  return { page, problems }
}

/** The case's page with its card not yet acted on. */
async function noCard(page, ref) {
  await page.getByRole('heading', { name: `Case ${ref}`, level: 1 }).waitFor()
  await page.getByRole('tab', { name: 'Notes' }).waitFor()
  assert.equal(await page.getByRole('region', { name: 'Suggested actions' }).count(), 0, `no card on ${ref}`)
}

/** The case's page with its card, as the representative. */
async function openCase(page, ref) {
  await page.goto(`${BASE}/cases/${ref}`)
  await page.getByRole('heading', { name: `Case ${ref}`, level: 1 }).waitFor()
  const card = page.getByRole('region', { name: 'Suggested actions' })
  await card.waitFor()
  return card
}

test('Review and send email: the edited follow-up goes to the outbox, and the card is gone', async () => {
  const { page, problems } = await signedIn('rep')
  const ref = refs[0]
  const card = await openCase(page, ref)
  for (const name of ['Review and send email', 'Draft reply', 'Resolve case', 'Dismiss'])
    assert.equal(await card.getByRole('button', { name, exact: true }).count(), 1, `the card has a button named ${name}`)
  await look(page, 'followup-card')

  const body = card.getByLabel(/^E-mail to the customer/)
  const drafted = await body.inputValue()
  assert.ok(drafted.trim().length > 0, 'the agent drafted the e-mail')
  const edited = `${drafted}\n\nP.S. Edited by the representative before sending.`
  await body.fill(edited)
  // by keyboard: focus the button and press Enter
  await card.getByRole('button', { name: 'Review and send email', exact: true }).focus()
  await page.keyboard.press('Enter')
  await page.getByText('The follow-up e-mail is queued for sending.').waitFor()
  assert.equal(await page.getByRole('region', { name: 'Suggested actions' }).count(), 0, 'the card is gone')

  const outbox = (await rep.call('GET', '/api/v1/email/outbox')).body.outbox
  const sent = outbox.filter((m) => m.case === ref)
  assert.equal(sent.length, 1, `one e-mail queued for ${ref}: ${JSON.stringify(sent)}`)
  assert.match(sent[0].body, /Edited by the representative before sending/)
  assert.equal(sent[0].to_addr, 'priya.vantassel@example.com')
  assert.equal(await suggestionOf(ref), null)
  // and after a reload, still gone
  await page.reload()
  await noCard(page, ref)
  assert.deepEqual(problems, [])
})

test('Draft reply: the reply editor gets the draft, and the card is gone', async () => {
  const { page, problems } = await signedIn('rep')
  const ref = refs[1]
  const card = await openCase(page, ref)
  const drafted = await card.getByLabel(/^E-mail to the customer/).inputValue()
  await card.getByRole('button', { name: 'Draft reply', exact: true }).click()
  await page.getByText('The draft is in the reply editor.').waitFor()
  assert.equal(await page.getByRole('region', { name: 'Suggested actions' }).count(), 0, 'the card is gone')
  const reply = page.getByLabel('Reply to the customer', { exact: true })
  await reply.waitFor()
  assert.equal(await page.getByRole('tab', { name: 'E-mails' }).getAttribute('aria-selected'), 'true')
  const text = await reply.inputValue()
  assert.ok(text.trim().length > 0, 'the reply editor holds the draft')
  assert.equal(text.trim(), drafted.trim(), 'the draft is the one the card showed')
  assert.ok(await reply.evaluate((el) => el === document.activeElement), 'the reply editor has the focus')
  await look(page, 'followup-draft')
  assert.equal(await suggestionOf(ref), null)
  // nothing was sent: the person sends it when ready
  const outbox = (await rep.call('GET', '/api/v1/email/outbox')).body.outbox
  assert.equal(outbox.filter((m) => m.case === ref).length, 0)
  assert.deepEqual(problems, [])
})

test('Resolve case: the resolve dialog proposes the resolution with its evidence, and the case is resolved', async () => {
  const { page, problems } = await signedIn('rep')
  const ref = refs[2]
  // what the representative did, for resolution help to propose
  const note = await rep.call('POST', `/api/v1/cases/${ref}/notes`, { body: 'I have refunded the duplicate payment to the card the order was paid with.' })
  assert.equal(note.status, 201, JSON.stringify(note.body))
  const card = await openCase(page, ref)
  await card.getByRole('button', { name: 'Resolve case', exact: true }).click()
  const dialog = page.getByRole('dialog', { name: `Resolve case ${ref}` })
  await dialog.waitFor()
  const proposal = dialog.getByRole('region', { name: 'Proposed resolution' })
  await proposal.waitFor()
  await proposal.getByText(/From the note \d+: “I have refunded the duplicate payment/).waitFor()
  const text = dialog.getByLabel('How was the problem solved?')
  assert.match(await text.inputValue(), /refunded the duplicate payment/, 'the proposal is in the text to accept or change')
  await look(page, 'followup-resolve')
  await text.fill(`${await text.inputValue()} The customer confirmed the refund arrived.`)
  await dialog.getByRole('button', { name: 'Resolve', exact: true }).click()
  await page.getByText(`Case ${ref} is now resolved.`).waitFor()
  assert.equal(await page.getByRole('region', { name: 'Suggested actions' }).count(), 0, 'the card is gone')
  const kase = (await rep.call('GET', `/api/v1/cases/${ref}`)).body
  assert.equal(kase.fields.status, 'resolved')
  const notes = (await rep.call('GET', `/api/v1/cases/${ref}/notes`)).body.notes
  assert.ok(
    notes.some((n) => n.kind === 'resolution' && /refunded the duplicate payment/.test(n.body) && /confirmed the refund arrived/.test(n.body)),
    `the resolution as the person confirmed it: ${JSON.stringify(notes)}`,
  )
  assert.equal(await suggestionOf(ref), null)
  assert.deepEqual(problems, [])
})

test('once the customer answers, the card is gone on the next refresh', async () => {
  const { page, problems } = await signedIn('rep')
  const ref = refs[3]
  await openCase(page, ref)
  const dir = await mkdtemp(path.join(tmpdir(), 'ca-e2e-answer-'))
  try {
    const eml = path.join(dir, 'answer.eml')
    await writeFile(
      eml,
      `From: Priya Vantassel <priya.vantassel@example.com>\r\nTo: support@brightwave.example\r\nSubject: Re: [${ref}] parcel late\r\n` +
        `Message-ID: <e2e-answer-${ref}@example.com>\r\n\r\nThe parcel is still not here, can you check?\r\n`,
    )
    const got = await cliAt(tick + 86400, '--json', 'email', 'ingest', eml)
    assert.match(got, new RegExp(ref), `the answer is on ${ref}: ${got}`)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  assert.equal(await suggestionOf(ref), null, 'the server closed the suggestion')
  await page.reload()
  await noCard(page, ref)
  assert.deepEqual(problems, [])
})

test('an administrator simulates the follow-up rules and reads the shadow log', async () => {
  const { page, problems } = await signedIn('ada')
  await page.getByRole('link', { name: 'Admin centre' }).click()
  await page.getByRole('link', { name: 'Follow-up agent' }).click()
  await page.getByRole('heading', { name: 'Follow-up agent', level: 1 }).waitFor()
  await page.getByText(`${RULE.name} · level confirm`).waitFor()
  const sim = page.getByRole('region', { name: 'Simulate' })
  await sim.getByLabel('Rule').selectOption({ label: RULE.name })
  await sim.getByLabel('Cases at most').fill('10')
  await sim.getByRole('button', { name: 'Run simulation' }).focus()
  await page.keyboard.press('Enter')
  await sim.getByText(/cases? simulated/).waitFor()
  const rows = page.getByRole('region', { name: 'Simulated decisions' }).getByRole('row')
  await rows.nth(1).waitFor()
  const text = await page.getByRole('region', { name: 'Simulated decisions' }).innerText()
  assert.ok(refs.some((r) => text.includes(r)), `the simulation lists the rule's cases: ${text}`)
  await page.getByRole('region', { name: 'Shadow log' }).getByRole('button', { name: 'Show shadow log' }).click()
  await look(page, 'admin-followup')
  // a simulation changes nothing: the suggestions stay as they were
  assert.equal(await suggestionOf(refs[0]), null)
  assert.deepEqual(problems, [])
})
