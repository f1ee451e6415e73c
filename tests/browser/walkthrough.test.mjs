// The docs walk-through end to end, as an app would run it: the official SDK
// in node for the backend, headless Chromium for the end user connecting
// their lock through the connect webview, then the unlock handler pattern.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { SeamHttp } from '@seamapi/http/connect'

import { ALL_DEVICES, SANITIZED, SEED, startServer, uniqueKey } from '../api/harness.mjs'
import { TEST_MS, heading, launchBrowser, openPage, screenshot } from './browser.mjs'

let browser
before(async () => {
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
})

const ACTION_WAIT = {
  waitForActionAttempt: { timeout: SANITIZED ? 60_000 : 15_000, pollingInterval: 100 },
}

/** The end user, in the browser: open the webview URL and connect jane's august account. */
async function connectInBrowser(url, label) {
  const { context, page } = await openPage(browser)
  try {
    const res = await page.goto(url)
    assert.equal(res.status(), 200, 'the webview page opens')
    await screenshot(page, `${label}-login`)
    assert.match(await heading(page), /^Sign in to August$/i)
    await page.getByLabel('Email', { exact: true }).fill('jane@example.com')
    await page.getByLabel('Password', { exact: true }).fill('1234')
    await page.getByRole('button', { name: 'Connect', exact: true }).click()
    await page.locator('h1', { hasText: 'Connected' }).waitFor()
    await screenshot(page, `${label}-connected`)
  } finally {
    await context.close()
  }
}

const ids = (devices) => devices.map((d) => d.device_id).sort()

/** The unlock handler of the app's backend: check ownership, then unlock. */
async function unlockForUser(seam, userIdentifierKey, deviceId) {
  const owned = await seam.devices.list({
    user_identifier_key: userIdentifierKey,
    device_ids: [deviceId],
  })
  if (owned.length !== 1 || owned[0].device_id !== deviceId) return null
  return seam.locks.unlockDoor({ device_id: deviceId }, ACTION_WAIT)
}

async function walkThrough({ grantBeforeConnecting, label }) {
  const server = await startServer({ args: ['--action-delay-ms', '200'] })
  let failure = null
  try {
    const seam = SeamHttp.fromApiKey(SEED.apiKey1, { endpoint: server.url })
    const userIdentifierKey = uniqueKey('jane')

    const clientSession = await seam.clientSessions.create({
      user_identifier_key: userIdentifierKey,
    })
    assert.equal(clientSession.user_identifier_key, userIdentifierKey)
    const connectWebview = await seam.connectWebviews.create({ accepted_providers: ['august'] })
    assert.equal(connectWebview.status, 'pending')
    const grant = () =>
      seam.clientSessions.grantAccess({
        client_session_id: clientSession.client_session_id,
        connect_webview_ids: [connectWebview.connect_webview_id],
      })

    if (grantBeforeConnecting) await grant()
    await connectInBrowser(connectWebview.url, label)

    const done = await seam.connectWebviews.get({
      connect_webview_id: connectWebview.connect_webview_id,
    })
    assert.equal(done.status, 'authorized')
    assert.equal(done.login_successful, true)
    assert.equal(done.selected_provider, 'august')
    const accountId = done.connected_account_id
    assert.ok(accountId, 'the webview names its connected account')

    // The account's devices: jane has 2 locks on august, all new.
    const accountDevices = await seam.devices.list({ connected_account_id: accountId })
    assert.equal(accountDevices.length, 2, 'jane@example.com has 2 locks')
    for (const d of accountDevices) {
      assert.equal(d.connected_account_id, accountId)
      assert.ok(!ALL_DEVICES.includes(d.device_id), `${d.device_id} is new, not a fixture device`)
    }

    if (!grantBeforeConnecting) {
      // Not granted yet: the user sees nothing.
      const none = await seam.devices.list({ user_identifier_key: userIdentifierKey })
      assert.deepEqual(ids(none), [], 'before grant_access the user has no devices')
      const cstBefore = SeamHttp.fromClientSessionToken(clientSession.token, { endpoint: server.url })
      assert.deepEqual(ids(await cstBefore.devices.list()), [])
      await grant()
    }

    const session = await seam.clientSessions.get({
      client_session_id: clientSession.client_session_id,
    })
    assert.deepEqual(session.connect_webview_ids, [connectWebview.connect_webview_id])
    assert.equal(session.device_count, 2)

    // devices.list for the user: exactly the new devices.
    const mine = await seam.devices.list({ user_identifier_key: userIdentifierKey })
    assert.deepEqual(ids(mine), ids(accountDevices), 'the user sees exactly the new devices')
    // The client session token (what the browser would hold) sees the same.
    const asUser = SeamHttp.fromClientSessionToken(clientSession.token, { endpoint: server.url })
    assert.deepEqual(ids(await asUser.devices.list()), ids(accountDevices), 'the token sees the same')

    // The unlock handler: a device the user does not own is refused...
    assert.equal(await unlockForUser(seam, userIdentifierKey, 'august_device_1'), null)
    assert.equal(
      (await seam.devices.get({ device_id: 'august_device_1' })).properties.locked,
      true,
      "john's lock stays locked",
    )
    // ...and the user's own lock is unlocked; the SDK waits for the attempt.
    const deviceId = mine[0].device_id
    assert.equal(mine[0].properties.locked, true, "jane's new lock starts locked")
    const attempt = await unlockForUser(seam, userIdentifierKey, deviceId)
    assert.ok(attempt, 'the user owns the device')
    assert.equal(attempt.status, 'success')
    assert.equal(attempt.action_type, 'UNLOCK_DOOR')
    const fetched = await seam.actionAttempts.get({ action_attempt_id: attempt.action_attempt_id })
    assert.equal(fetched.status, 'success')
    const device = await seam.devices.get({ device_id: deviceId })
    assert.equal(device.properties.locked, false, 'the lock is unlocked')
    // The client session sees its unlocked lock too.
    assert.equal((await asUser.devices.get({ device_id: deviceId })).properties.locked, false)
  } catch (err) {
    failure = err
  }
  // Stop the server either way; a failed stop (unclean exit, sanitizer
  // report) fails the test, but never hides the test's own failure.
  try {
    await server.stop()
  } catch (err) {
    if (!failure) throw err
    console.error(err)
  }
  if (failure) throw failure
}

describe('the docs walk-through', { timeout: TEST_MS }, () => {
  it('client session → connect webview → grant_access → connect in the browser → list → unlock', async () => {
    await walkThrough({ grantBeforeConnecting: true, label: 'walkthrough' })
  })

  it('grant_access after the webview was completed gives the same result', async () => {
    await walkThrough({ grantBeforeConnecting: false, label: 'walkthrough-late-grant' })
  })
})
