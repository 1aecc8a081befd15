// SPDX-License-Identifier: MIT
// The admin centre end to end, in Debian's chromium against a real
// `caseagent serve`: an administrator sets the default fields (Issue
// description, Contact) and the update rule "Case category equals Product
// defect → Product, Priority, Serial number" on the Case Management Agent
// page, sees the API's error at the control it names, saves, and the
// settings read back over the API hold them; adds a user, gives them an API
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
  for (const path of ['/admin', '/admin/agent', '/admin/users', '/admin/profiles']) {
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
