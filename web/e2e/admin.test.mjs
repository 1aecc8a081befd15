// SPDX-License-Identifier: MIT
// The admin centre end to end, in Debian's chromium against a real
// `caseagent serve`: an administrator sets the default fields (Issue
// description, Contact) and the update rule "Case category equals Product
// defect → Product, Priority, Serial number" on the Case Management Agent
// page, sees the API's error at the control it names, saves, and the
// settings read back over the API hold them; edits the fields (a threshold,
// an option), the ARC rules (a condition, unknown senders, the resolved-case
// window, the reply template) and the knowledge agent (conversations,
// auto-publish to external readers, case attributes), each page refusing
// one bad value at its control first; adds a user, gives them an API
// token (shown once) and revokes it; creates an agent experience profile.
// A representative gets neither the pages nor their API. The settings the
// other tests rely on are put back at the end.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { BASE, apiSession, launch, look, newPage, signIn } from './lib.mjs'

const SEED = new URL('../../tests/server/data/seed_settings.json', import.meta.url)

let browser
let admin
let original = null

before(async () => {
  browser = await launch()
  admin = await apiSession('ada')
  const got = await admin.call('GET', '/api/v1/settings')
  assert.equal(got.status, 200)
  original = got.body
  // The seed's fields, with neither its default list nor its rule: the page sets them.
  const seed = JSON.parse(await readFile(SEED, 'utf8'))
  seed.default_fields = ['category']
  seed.update_rules = seed.update_rules.filter((r) => !r.predict.includes('serial_number'))
  const put = await admin.call('PUT', '/api/v1/settings', seed)
  assert.equal(put.status, 200, JSON.stringify(put.body))
})
after(async () => {
  if (original) {
    const put = await admin.call('PUT', '/api/v1/settings', original)
    assert.equal(put.status, 200, `the settings put back: ${JSON.stringify(put.body)}`)
  }
  await browser?.close()
})

test('an administrator sets the default fields and an update rule on the Case Management Agent page', async () => {
  const problems = []
  const page = await newPage(browser, problems)
  await signIn(page, 'ada')
  await page.getByRole('link', { name: 'Admin centre' }).click()
  await page.getByRole('heading', { name: 'Admin centre' }).waitFor()
  await look(page, 'admin-centre')
  await page.getByRole('link', { name: 'Case Management Agent' }).click()
  await page.getByRole('heading', { name: 'Case Management Agent' }).waitFor()

  const defaults = page.getByRole('group', { name: 'Default fields' })
  await defaults.getByLabel('Case category', { exact: true }).uncheck()
  await defaults.getByLabel('Issue description', { exact: true }).check()
  await defaults.getByLabel('Contact', { exact: true }).check()

  const rules = page.getByRole('group', { name: /^Update rule \d/ })
  const before = await rules.count()
  await page.getByRole('button', { name: 'Add update rule' }).click()
  let rule = rules.nth(before)
  await rule.getByLabel('Rule name', { exact: true }).fill('product defect details')
  rule = page.getByRole('group', { name: 'Update rule ' + (before + 1) + ': product defect details' })
  await rule.getByLabel('Field', { exact: true }).selectOption({ label: 'Case category' })
  // "is one of" with no values: the API refuses it, naming the key, and the
  // message stands at that control.
  await rule.getByLabel('Operator', { exact: true }).selectOption({ label: 'is one of' })
  const values = rule.getByLabel('Values (separated by commas)', { exact: true })
  await values.fill('')
  await page.keyboard.press('Tab')
  const predict = rule.getByRole('group', { name: 'Fields to predict' })
  for (const f of ['Product', 'Priority', 'Serial number']) await predict.getByLabel(f, { exact: true }).check()
  await page.getByRole('button', { name: 'Save', exact: true }).click()
  await page.locator('[aria-invalid=true]').first().waitFor()
  assert.equal(await values.getAttribute('aria-invalid'), 'true', 'the error is at the value control')
  const described = await values.getAttribute('aria-describedby')
  assert.match(await page.locator(`#${described}`).innerText(), /value/i)
  assert.match(await page.getByRole('alert').innerText(), /update_rules\[\d+\]\.condition\.conditions\[0\]\.value/)
  await look(page, 'admin-agent-error')

  // Fixed by keyboard: the operator back to equals, the value Product defect.
  await rule.getByLabel('Operator', { exact: true }).focus()
  await rule.getByLabel('Operator', { exact: true }).selectOption({ label: 'equals' })
  await rule.getByLabel('Value', { exact: true }).selectOption({ label: 'Product defect' })
  await page.getByRole('button', { name: 'Save', exact: true }).focus()
  await page.keyboard.press('Enter')
  await page.getByText('Settings saved.').waitFor()
  assert.equal(await page.locator('[aria-invalid=true]').count(), 0)
  await look(page, 'admin-agent')

  const got = await admin.call('GET', '/api/v1/settings')
  assert.deepEqual([...got.body.default_fields].sort(), ['customer', 'description'])
  const saved = got.body.update_rules.find((r) => r.name === 'product defect details')
  assert.ok(saved, `the rule is in the settings: ${JSON.stringify(got.body.update_rules)}`)
  assert.deepEqual(saved.condition.conditions, [{ field: 'category', operator: 'equals', value: 'product_defect' }])
  assert.notEqual(saved.condition.match, 'any')
  assert.deepEqual([...saved.predict].sort(), ['priority', 'product', 'serial_number'])

  // Read back by the page too, after a reload.
  await page.reload()
  await page.getByRole('group', { name: /product defect details/ }).waitFor()
  assert.equal(await page.getByRole('group', { name: 'Default fields' }).getByLabel('Contact', { exact: true }).isChecked(), true)
  assert.deepEqual(problems, [])
})

/** Save with the value `bad` in the control `label` of `scope`: the API's
 * error stands at that control; then save `good` and the page says so. */
async function errorThenSave(page, scope, label, bad, good, words, shotName) {
  const control = scope.getByLabel(label, { exact: true })
  await control.fill(bad)
  await page.getByRole('button', { name: 'Save', exact: true }).click()
  await page.locator('[aria-invalid=true]').first().waitFor()
  assert.equal(await control.getAttribute('aria-invalid'), 'true', `the error is at ${label}`)
  const ids = (await control.getAttribute('aria-describedby')).split(' ')
  const err = ids.find((id) => id.endsWith('-err'))
  assert.ok(err, `${label} is described by the error: ${ids}`)
  assert.match(await page.locator(`#${err}`).innerText(), words)
  assert.equal(await page.locator('[aria-invalid=true]').count(), 1, 'no other control is marked')
  await look(page, shotName)
  await control.fill(good)
  await page.getByRole('button', { name: 'Save', exact: true }).click()
  await page.getByText('Settings saved.').waitFor()
  assert.equal(await page.locator('[aria-invalid=true]').count(), 0)
}

test('an administrator edits the fields, the ARC rules and the knowledge agent, each error at its control', async () => {
  const problems = []
  const page = await newPage(browser, problems)
  await signIn(page, 'ada')
  await page.goto(`${BASE}/admin`)

  // Fields: a threshold outside 0..1 is refused at its control; an option relabelled.
  await page.getByRole('link', { name: 'Fields', exact: true }).click()
  await page.getByRole('heading', { name: 'Fields', level: 1 }).waitFor()
  const serial = page.getByRole('group', { name: 'Serial number', exact: true })
  await errorThenSave(page, serial, 'Threshold', '2', '0.55', /from 0 to 1/, 'admin-fields-error')
  await page.getByRole('group', { name: 'Priority', exact: true }).getByRole('group', { name: 'Option 1: Low' }).getByLabel('Option label', { exact: true }).fill('Low priority')
  await page.getByRole('button', { name: 'Save', exact: true }).click()
  await page.getByText('Settings saved.').waitFor()
  await look(page, 'admin-fields')
  let got = (await admin.call('GET', '/api/v1/settings')).body
  assert.equal(got.fields.find((f) => f.name === 'serial_number').threshold, 0.55)
  assert.equal(got.fields.find((f) => f.name === 'priority').options[0].label, 'Low priority')

  // ARC rules: the resolved-case window; unknown senders; a condition over the e-mail; the reply template.
  await page.goto(`${BASE}/admin`)
  await page.getByRole('link', { name: 'ARC rules', exact: true }).click()
  await page.getByRole('heading', { name: 'ARC rules', level: 1 }).waitFor()
  const arc = page.getByRole('group', { name: 'ARC rule 1: support mailbox' })
  await arc.getByLabel('Only e-mail that matches a condition', { exact: true }).check()
  await arc.getByLabel('Field', { exact: true }).selectOption({ label: 'Mailbox' })
  await arc.getByLabel('Value', { exact: true }).fill('support@seedshop.example')
  await arc.getByLabel(/^Accept unknown senders/).uncheck()
  await page.getByLabel('Reply from', { exact: true }).fill('support@seedshop.example')
  await page.getByLabel('Reply subject', { exact: true }).fill('{token} We received: {subject}')
  await errorThenSave(page, arc, 'Resolved-case window (hours)', '-1', '48', /whole number/, 'admin-arc-error')
  await look(page, 'admin-arc')
  got = (await admin.call('GET', '/api/v1/settings')).body
  assert.deepEqual(got.arc_rules[0], {
    name: 'support mailbox',
    condition: { match: 'all', conditions: [{ field: 'mailbox', operator: 'equals', value: 'support@seedshop.example' }] },
    fields: { title: '{subject}', description: '{body}' },
    accept_unknown_senders: false,
    resolved_window_hours: 48,
    auto_response: false,
  })
  assert.equal(got.email.auto_response.from, 'support@seedshop.example')

  // Knowledge agent: the coverage threshold; auto-publish to external readers; conversations too.
  await page.goto(`${BASE}/admin`)
  await page.getByRole('link', { name: 'Knowledge agent', exact: true }).click()
  await page.getByRole('heading', { name: 'Knowledge agent', level: 1 }).waitFor()
  await page.getByLabel('Draft articles when a conversation closes', { exact: true }).check()
  await page.getByLabel(/^Publish compliant articles at once/).check()
  await page.getByLabel('Audience of auto-published articles', { exact: true }).selectOption({ label: 'Internal and external readers' })
  await page.getByLabel('Use the subject', { exact: true }).uncheck()
  await errorThenSave(page, page.locator('form'), 'Coverage threshold', '2', '0.4', /at most 1/, 'admin-knowledge-error')
  await look(page, 'admin-knowledge')
  got = (await admin.call('GET', '/api/v1/settings')).body
  assert.equal(got.knowledge.realtime_conversations, true)
  assert.equal(got.knowledge.auto_publish, true)
  assert.equal(got.knowledge.audience, 'external')
  assert.equal(got.knowledge.coverage_threshold, 0.4)
  assert.equal(got.knowledge.case_attributes.subject, false)
  assert.deepEqual(problems, [])
})

test('an administrator adds a user, gives them an API token and revokes it, and creates a profile', async () => {
  const problems = []
  const page = await newPage(browser, problems)
  await signIn(page, 'ada')
  await page.goto(`${BASE}/admin/users`)
  await page.getByRole('heading', { name: 'Users and roles' }).waitFor()
  await page.getByLabel('User name', { exact: true }).fill('mia')
  await page.getByRole('region', { name: 'Add a user' }).getByLabel('Role', { exact: true }).selectOption({ label: 'CSR Manager' })
  await page.getByRole('region', { name: 'Add a user' }).getByLabel('Password', { exact: true }).fill('a long enough password 42')
  await page.getByRole('button', { name: 'Add user' }).click()
  const row = page.getByRole('row', { name: 'mia' })
  await row.waitFor()
  const mia = await admin.call('GET', '/api/v1/users/mia')
  assert.equal(mia.body.role, 'CSR Manager')
  assert.equal(mia.body.has_password, true)

  await row.getByRole('button', { name: 'Disable' }).click()
  await row.getByRole('button', { name: 'Enable' }).waitFor()
  assert.equal((await admin.call('GET', '/api/v1/users/mia')).body.disabled, true)
  await row.getByRole('button', { name: 'Enable' }).click()
  await row.getByRole('button', { name: 'Disable' }).waitFor()

  await row.getByRole('button', { name: 'API tokens' }).click()
  await page.getByRole('heading', { name: 'API tokens of mia' }).waitFor()
  await page.getByLabel('Token label', { exact: true }).fill('report script')
  await page.getByRole('button', { name: 'Create token' }).click()
  const token = (await page.locator('code.token').innerText()).trim()
  assert.match(token, /^ca_[A-Za-z0-9_-]{43}$/)
  const asMia = await fetch(`${BASE}/api/v1/session`, { headers: { Authorization: `Bearer ${token}` } })
  assert.equal(asMia.status, 200)
  await look(page, 'admin-users-tokens')
  await page.getByRole('row', { name: /report script/ }).getByRole('button', { name: 'Revoke' }).click()
  await page.getByRole('row', { name: /report script/ }).getByText(/Revoked/).waitFor()
  assert.equal(await page.locator('code.token').count(), 0, 'the token is shown once only')
  const revoked = await fetch(`${BASE}/api/v1/session`, { headers: { Authorization: `Bearer ${token}` } })
  assert.equal(revoked.status, 401)

  await page.goto(`${BASE}/admin/profiles`)
  await page.getByRole('heading', { name: 'Agent experience profiles' }).waitFor()
  const create = page.getByRole('region', { name: 'Create a profile' })
  await create.getByLabel('Profile name', { exact: true }).fill('Assisted')
  await create.getByLabel('Description', { exact: true }).fill('The agent suggests; people decide')
  await create.getByLabel('Autonomous case creation and update from conversations', { exact: true }).uncheck()
  await create.getByRole('button', { name: 'Create profile' }).click()
  const assisted = page.getByRole('group', { name: 'Profile Assisted' })
  await assisted.waitFor()
  let p = (await admin.call('GET', '/api/v1/profiles/Assisted')).body
  assert.equal(p.autonomous_case, false)
  assert.equal(p.autonomous_followup, true)
  await assisted.getByLabel('Autonomous case follow-up and closure', { exact: true }).uncheck()
  await assisted.getByRole('button', { name: 'Save profile' }).click()
  await page.getByText('Profile Assisted saved.').waitFor()
  p = (await admin.call('GET', '/api/v1/profiles/Assisted')).body
  assert.equal(p.autonomous_followup, false)
  await look(page, 'admin-profiles')
  assert.deepEqual(problems, [])
})

test('a representative gets no admin page, neither link nor API', async () => {
  const problems = []
  const page = await newPage(browser, problems)
  await signIn(page, 'rep')
  assert.equal(await page.getByRole('link', { name: 'Admin centre' }).count(), 0)
  for (const path of ['/admin', '/admin/agent', '/admin/fields', '/admin/arc-rules', '/admin/knowledge', '/admin/users', '/admin/profiles']) {
    await page.goto(`${BASE}${path}`)
    await page.getByRole('heading', { name: 'Workspace' }).waitFor()
    assert.equal(await page.getByRole('button', { name: 'Save', exact: true }).count(), 0, `no Save at ${path}`)
    assert.equal(await page.getByRole('heading', { name: 'Case Management Agent' }).count(), 0)
  }
  const rep = await apiSession('rep')
  assert.equal((await rep.call('PUT', '/api/v1/settings', original)).status, 403)
  assert.equal((await rep.call('GET', '/api/v1/users')).status, 403)
  assert.equal((await rep.call('POST', '/api/v1/users/rep/tokens', {})).status, 403)
  assert.equal((await rep.call('PUT', '/api/v1/profiles/Default', { name: 'Default', description: null, autonomous_case: false, autonomous_followup: false })).status, 403)
  assert.deepEqual(problems, [])
})
