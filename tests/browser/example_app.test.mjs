// The browser example (examples/browser) end to end, in Debian's chromium:
// two signed-in users connect sandbox accounts through connect webviews from
// the example page, each sees only their own devices on both pages (the
// hand-written @seamapi/http page and the Seam Components page), a pasted
// token shows its own user's devices, unlock shows pending then success, and
// a revoked session shows the "session ended" message.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { SeamHttp } from '@seamapi/http/connect'

import { SEED } from '../api/harness.mjs'
import { ACTION_MS, TEST_MS, launchBrowser, openPage, screenshot } from './browser.mjs'
import { listedDeviceIds, openExample, pasteToken, startSeededExample, waitReady } from './example_support.mjs'

let latchkey
let example
let browser
let seam
const users = {} // name -> { context, page, requests, responses }

before(async () => {
  ;({ latchkey, example } = await startSeededExample())
  browser = await launchBrowser()
  seam = SeamHttp.fromApiKey(SEED.apiKey1, { endpoint: latchkey.url })
})

after(async () => {
  for (const u of Object.values(users)) await u.context.close().catch(() => {})
  await browser?.close()
  await example?.stop()
  await latchkey?.stop()
})

const appUrl = (user, extra = '') => `${example.url}/?user=${user}${extra}`
const componentsUrl = (user, extra = '') => `${example.url}/components.html?user=${user}${extra}`

/** What the API (with the API key) says the user's devices are. */
async function apiDevices(user) {
  return seam.devices.list({ user_identifier_key: user })
}
/** Polls the API until the lock's `locked` is `value` (the components act asynchronously). */
async function waitLocked(deviceId, value) {
  const deadline = Date.now() + ACTION_MS
  for (;;) {
    const d = await seam.devices.get({ device_id: deviceId })
    if (d.properties.locked === value) return
    assert.ok(Date.now() < deadline, `${deviceId} never became locked:${value}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const ids = (devices) => devices.map((d) => d.device_id).sort()
const names = (devices) => devices.map((d) => d.display_name).sort()

/** The device names the Seam Components table lists. */
async function tableNames(page) {
  const rows = page.locator('seam-device-table .seam-table-row .seam-truncated-text')
  await rows.first().waitFor()
  return (await rows.allTextContents()).map((s) => s.trim()).sort()
}

/** Waits until the components table's heading count equals n. */
async function waitTableCount(page, n) {
  await page.locator('seam-device-table .seam-table-title .seam-caption', { hasText: `(${n})` }).waitFor()
}

/**
 * Whether the components' device details show the lock state `status` with
 * the button `button` within 15 s of a lock or unlock click. They set it
 * before they call latchkey and do not refetch the device after the action,
 * and a devices/get already on its way when they set it overwrites it: under
 * a loaded CI machine (ASan on PostgreSQL) the state once did not show
 * within a minute. Whatever the page shows, latchkey must have answered
 * every request since `seen` without an error, the action's too.
 */
async function showsLockState(details, responses, seen, status, button) {
  const shown = await Promise.all([
    details.getByText(status, { exact: true }).waitFor({ timeout: 15_000 }),
    details.getByRole('button', { name: button, exact: true }).waitFor({ timeout: 15_000 }),
  ]).then(() => true, () => false)
  const action = status === 'Locked' ? '/locks/lock_door' : '/locks/unlock_door'
  const asked = () => responses.slice(seen).filter((r) => r.url.startsWith(latchkey.url))
  const deadline = Date.now() + ACTION_MS
  while (!asked().some((r) => new URL(r.url).pathname === action)) {
    assert.ok(Date.now() < deadline, `the page never called ${action}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  if (!shown)
    console.log(`"${status}" did not show; requests since: ${asked().map((r) => `${new URL(r.url).pathname} ${r.status}`).join(', ')}`)
  assert.deepEqual(asked().filter((r) => r.status >= 400 && r.status !== 404), [], 'latchkey answered an error')
  return shown
}

/** The state the API confirmed shows, reopening the device (which fetches it anew) when it does not. */
async function showsAfterReopen(details, reopen, status, button) {
  const lockState = () => Promise.all([
    details.getByText(status, { exact: true }).waitFor({ timeout: 5_000 }),
    details.getByRole('button', { name: button, exact: true }).waitFor({ timeout: 5_000 }),
  ])
  if (await lockState().then(() => true, () => false)) return
  await reopen()
  await details.getByText(status, { exact: true }).waitFor()
  await details.getByRole('button', { name: button, exact: true }).waitFor()
}

/** Clicks "Connect an account" and signs in on the webview page; back on the example page. */
async function connectThroughPage(page, { provider, email }) {
  await page.getByRole('button', { name: 'Connect an account' }).click()
  // The webview page on latchkey: pick the provider, then sign in.
  await page.waitForURL((url) => url.pathname === '/connect_webviews/view')
  await page.getByRole('button', { name: provider, exact: true }).click()
  await page.getByLabel('Email', { exact: true }).fill(email)
  await page.getByLabel('Password', { exact: true }).fill('1234')
  await page.getByRole('button', { name: 'Connect', exact: true }).click()
  // custom_redirect_url: back to the example page, which says what happened.
  await page.waitForURL((url) => url.origin === example.url)
  await waitReady(page)
  const status = page.locator('#connect-status[data-connected-account-id]')
  await status.waitFor()
  return status.getAttribute('data-connected-account-id')
}

describe('the browser example', { timeout: TEST_MS * 4 }, () => {
  it('connects sandbox accounts through the webview from the page; the devices appear at once', { timeout: TEST_MS }, async () => {
    for (const name of ['alice', 'bob']) users[name] = await openPage(browser)

    // alice: the session comes from the example's backend (API key); the
    // backend creates the webview and grants it to her session.
    const alice = users.alice.page
    await openExample(alice, appUrl('alice'))
    assert.deepEqual(await listedDeviceIds(alice), [], 'a new user has no devices')
    await screenshot(alice, 'example-app-alice-empty')
    const aliceAccount = await connectThroughPage(alice, { provider: 'August', email: 'jane@example.com' })

    // bob: only the publishable key in the browser; the browser creates the
    // webview with its client session token.
    const bob = users.bob.page
    await openExample(bob, appUrl('bob', '&mode=publishable'))
    assert.match(await bob.locator('[data-field=source]').textContent(), /publishable key/)
    const bobAccount = await connectThroughPage(bob, { provider: 'Schlage', email: 'john@example.com' })
    assert.notEqual(aliceAccount, bobAccount)

    const aliceDevices = await apiDevices('alice')
    const bobDevices = await apiDevices('bob')
    assert.equal(aliceDevices.length, 2, 'jane@example.com brings 2 august locks')
    assert.equal(bobDevices.length, 3, 'john@example.com brings 3 schlage locks')
    assert.ok(aliceDevices.every((d) => d.connected_account_id === aliceAccount))
    assert.ok(bobDevices.every((d) => d.connected_account_id === bobAccount))
    // Listed without reloading anything but the page the webview sent us back to.
    assert.deepEqual(await listedDeviceIds(alice), ids(aliceDevices))
    assert.deepEqual(await listedDeviceIds(bob), ids(bobDevices))
    await screenshot(alice, 'example-app-alice-connected')
    await screenshot(bob, 'example-app-bob-connected')
  })

  it('a webview opened in a new window adds its devices to the open page', { timeout: TEST_MS }, async () => {
    const alice = users.alice.page
    await alice.getByLabel('in a new window').check()
    const [popup] = await Promise.all([
      alice.waitForEvent('popup'),
      alice.getByRole('button', { name: 'Connect an account' }).click(),
    ])
    await popup.getByRole('button', { name: 'ecobee', exact: true }).click()
    await popup.getByLabel('Email', { exact: true }).fill('john@example.com')
    await popup.getByLabel('Password', { exact: true }).fill('1234')
    await popup.getByRole('button', { name: 'Connect', exact: true }).click()
    await popup.locator('h1', { hasText: 'Connected' }).waitFor()
    await popup.close()
    // The open page notices the webview is authorized and lists the thermostat.
    await alice.locator('#devices-status[data-count="3"]').waitFor()
    const aliceDevices = await apiDevices('alice')
    assert.equal(aliceDevices.length, 3)
    assert.deepEqual(await listedDeviceIds(alice), ids(aliceDevices))
    await alice.getByLabel('in a new window').uncheck()
  })

  it('each user sees only their own devices on both pages', { timeout: TEST_MS }, async () => {
    const aliceDevices = await apiDevices('alice')
    const bobDevices = await apiDevices('bob')
    assert.equal(ids(aliceDevices).filter((id) => ids(bobDevices).includes(id)).length, 0)

    for (const [name, devices] of [
      ['alice', aliceDevices],
      ['bob', bobDevices],
    ]) {
      const { page } = users[name]
      await openExample(page, appUrl(name))
      assert.deepEqual(await listedDeviceIds(page), ids(devices), `${name}'s page`)
      assert.equal(await page.locator('[data-field=owner]').textContent(), name)

      await openExample(page, componentsUrl(name))
      // The table shows every device of the user: locks and thermostats.
      await waitTableCount(page, devices.length)
      assert.deepEqual(await tableNames(page), names(devices), `${name}'s components table`)
      await screenshot(page, `example-components-${name}`)
    }

    // The components with only the publishable key (they get the session themselves).
    const { page } = users.bob
    await openExample(page, componentsUrl('bob', '&mode=publishable'))
    await waitTableCount(page, bobDevices.length)
    assert.deepEqual(await tableNames(page), names(bobDevices))
    assert.equal(await page.locator('seam-device-table').getAttribute('publishable-key'), SEED.publishableKey1)
  })

  it("one user's token pasted into the other's page shows only the first user's devices", { timeout: TEST_MS }, async () => {
    const alice = users.alice.page
    await openExample(alice, appUrl('alice'))
    const aliceToken = await alice.locator('#token').inputValue()
    assert.match(aliceToken, /^seam_cst1/)
    const aliceDevices = await apiDevices('alice')

    const bob = users.bob.page
    await openExample(bob, appUrl('bob'))
    await pasteToken(bob, aliceToken)
    assert.equal(await bob.locator('[data-field=source]').textContent(), 'a pasted client session token')
    assert.equal(await bob.locator('[data-field=owner]').textContent(), 'alice')
    assert.deepEqual(await listedDeviceIds(bob), ids(aliceDevices))
    await screenshot(bob, 'example-app-bob-with-alice-token')

    // The components page in the same tab uses the pasted token too.
    await openExample(bob, componentsUrl('bob'))
    await waitTableCount(bob, aliceDevices.length)
    assert.deepEqual(await tableNames(bob), names(aliceDevices))

    await bob.getByRole('button', { name: 'Forget pasted token' }).click()
    await waitReady(bob)
    await openExample(bob, appUrl('bob'))
    assert.equal(await bob.locator('[data-field=owner]').textContent(), 'bob')
    assert.deepEqual(await listedDeviceIds(bob), ids(await apiDevices('bob')))
  })

  it('unlock from the page shows pending then success; the API confirms locked:false', { timeout: TEST_MS }, async () => {
    const alice = users.alice.page
    await openExample(alice, appUrl('alice'))
    const lock = (await apiDevices('alice')).find((d) => d.properties.locked === true)
    assert.ok(lock, 'alice has a locked lock')
    const row = alice.locator(`#device-list tr[data-device-id="${lock.device_id}"]`)
    assert.equal(await row.locator('.lock-state').getAttribute('data-locked'), 'true')

    await row.getByRole('button', { name: `Unlock ${lock.display_name}`, exact: true }).click()
    await row.locator('.action-status[data-status=pending]').waitFor()
    await screenshot(alice, 'example-app-unlock-pending')
    await row.locator('.action-status[data-status=success]').waitFor()
    await row.locator('.lock-state[data-locked=false]').waitFor()
    const entry = alice.locator('#activity li').first()
    assert.equal(await entry.getAttribute('data-statuses'), 'pending success')
    await screenshot(alice, 'example-app-unlocked')

    const after = await seam.devices.get({ device_id: lock.device_id })
    assert.equal(after.properties.locked, false)

    // And lock it again.
    await row.getByRole('button', { name: `Lock ${lock.display_name}`, exact: true }).click()
    await row.locator('.lock-state[data-locked=true]').waitFor()
    assert.equal((await seam.devices.get({ device_id: lock.device_id })).properties.locked, true)
  })

  it('the Seam Components lock and unlock, and every request of the lock details is served', { timeout: TEST_MS }, async () => {
    const { page, responses } = users.bob
    await openExample(page, componentsUrl('bob'))
    const bobDevices = await apiDevices('bob')
    const lock = bobDevices.find((d) => d.properties.locked === true)
    await waitTableCount(page, bobDevices.length)
    const seen = responses.length
    await page.locator('seam-device-table .seam-table-row', { hasText: lock.display_name }).click()
    // The device details: lock status with an Unlock button.
    const details = page.locator('seam-device-table')
    await details.getByText('Lock status', { exact: true }).waitFor()
    const reopen = async () => {
      await openExample(page, componentsUrl('bob'))
      await waitTableCount(page, bobDevices.length)
      await page.locator('seam-device-table .seam-table-row', { hasText: lock.display_name }).click()
    }
    await details.getByRole('button', { name: 'Unlock', exact: true }).click()
    if (await showsLockState(details, responses, seen, 'Unlocked', 'Lock')) {
      // The components wait for the action attempt, then say so.
      await details.locator('.seam-snackbar-message', { hasText: 'successfully updated' }).waitFor()
    }
    await waitLocked(lock.device_id, false)
    await showsAfterReopen(details, reopen, 'Unlocked', 'Lock')
    await screenshot(page, 'example-components-device-unlocked')

    await details.getByRole('button', { name: 'Lock', exact: true }).click()
    await showsLockState(details, responses, seen, 'Locked', 'Unlock')
    await waitLocked(lock.device_id, true)
    await showsAfterReopen(details, reopen, 'Locked', 'Unlock')

    // Everything the lock's details asked latchkey for is served (its
    // access codes too).
    const missing = responses
      .slice(seen)
      .filter((r) => r.url.startsWith(latchkey.url) && r.status === 404)
      .map((r) => new URL(r.url).pathname)
    assert.deepEqual(missing, [], `404s: ${missing.join(', ')}`)
    assert.ok(
      responses.slice(seen).some((r) => new URL(r.url).pathname === '/access_codes/list' && r.status === 200),
      'the details list the lock\'s access codes',
    )
    // The details still show what latchkey does serve.
    await details.getByText(lock.display_name).first().waitFor()
    await details.getByText('Device info').waitFor()
  })

  it('a revoked session shows the session-ended message on the next action', { timeout: TEST_MS }, async () => {
    const alice = users.alice.page
    await openExample(alice, appUrl('alice'))
    const sessionId = await alice.locator('[data-field=session-id]').textContent()
    const lock = (await apiDevices('alice')).find((d) => d.properties.locked === true)

    await seam.clientSessions.revoke({ client_session_id: sessionId })

    const row = alice.locator(`#device-list tr[data-device-id="${lock.device_id}"]`)
    await row.getByRole('button', { name: `Unlock ${lock.display_name}`, exact: true }).click()
    const alert = alice.locator('#auth-error')
    await alert.waitFor()
    assert.equal(await alert.getAttribute('data-type'), 'client_session_revoked')
    assert.match(await alert.textContent(), /revoked/i)
    await screenshot(alice, 'example-app-session-revoked')
    assert.equal((await seam.devices.get({ device_id: lock.device_id })).properties.locked, true, 'nothing was unlocked')

    // "Get a new session": the backend's get_or_create issues a fresh one with the same grants.
    await alice.getByRole('button', { name: 'Get a new session' }).click()
    await alice.locator('#auth-error').waitFor({ state: 'hidden' })
    await alice.waitForFunction(
      (old) => {
        const now = document.querySelector('[data-field=session-id]').textContent
        return now !== old && now !== '\u2014'
      },
      sessionId,
    )
    assert.deepEqual(await listedDeviceIds(alice), ids(await apiDevices('alice')))

    // The components page says the same when its token stops working.
    await openExample(alice, componentsUrl('alice'))
    await waitTableCount(alice, (await apiDevices('alice')).length)
    const id2 = await alice.locator('[data-field=session-id]').textContent()
    await seam.clientSessions.revoke({ client_session_id: id2 })
    await alice.locator('seam-device-table .seam-table-row').first().click()
    await alice.locator('#auth-error').waitFor()
    assert.equal(await alice.locator('#auth-error').getAttribute('data-type'), 'client_session_revoked')
    await screenshot(alice, 'example-components-session-revoked')
  })
})
