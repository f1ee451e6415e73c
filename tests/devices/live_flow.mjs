// Connecting a live provider's account (Zigbee2MQTT, Home Assistant) through
// the connect webview as a browser without JavaScript does: open the page,
// choose the provider, POST the form, follow the 303 and reload the
// "connecting" page (it refreshes itself every second) until it says
// Connected or shows the form again with why not.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'

import { SeamActionAttemptFailedError } from '@seamapi/http/connect'

import {
  BACKEND,
  SEED,
  assertOk,
  call,
  pgDump,
  sdkFromApiKey,
  sdkFromToken,
  sdkRejects,
} from '../api/harness.mjs'
import { newSandboxWorkspace, openWebview, postWebview, tags, waitFor } from '../api/webview_flow.mjs'

/**
 * The page after the form, once it is no longer "connecting". With
 * resubmit false, only waits for the try already made.
 */
export async function submitLiveForm(url, provider, fields, { ms = 20_000, resubmit = true } = {}) {
  const first = await openWebview(url)
  assert.equal(first.status, 200, first.html.slice(0, 400))
  let target = url
  if (resubmit) {
    const posted = await postWebview(url, { provider, action: 'login', ...fields })
    if (posted.status !== 303) return posted // the form again, with why
    target = new URL(posted.location, url).toString()
  }
  const deadline = Date.now() + ms
  for (;;) {
    const page = await openWebview(target)
    const refreshing = /http-equiv="refresh"/.test(page.html)
    if (!refreshing) return page
    assert.match(page.heading, /^Connecting to /)
    if (Date.now() > deadline) assert.fail(`still connecting after ${ms} ms`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** The error the form shows, or null. */
export const formError = (page) =>
  (/<p role="alert" class="error">([\s\S]*?)<\/p>/.exec(page.html) ?? [])[1] ?? null

/** The names of the form's inputs. */
export const formFields = (page) => tags(page.html, 'input').map((i) => i.name)

/**
 * Creates a webview for `provider` with `token`, submits `fields`, and
 * asserts it ended authorized; resolves { connect_webview_id,
 * connected_account_id, page }.
 */
export async function connectLive(srv, token, provider, fields) {
  const created = assertOk(
    await call(srv, '/connect_webviews/create', { token, body: { accepted_providers: [provider] } }),
    'connect_webview',
  ).connect_webview
  const page = await submitLiveForm(created.url, provider, fields)
  assert.equal(page.heading, 'Connected', `${page.heading}: ${formError(page) ?? page.html.slice(0, 600)}`)
  const after = assertOk(
    await call(srv, '/connect_webviews/get', {
      token,
      body: { connect_webview_id: created.connect_webview_id },
    }),
    'connect_webview',
  ).connect_webview
  assert.equal(after.status, 'authorized')
  return {
    connect_webview_id: created.connect_webview_id,
    connected_account_id: after.connected_account_id,
    url: created.url,
    page,
  }
}

/**
 * Another user of the workspace (otherToken: their client session) and
 * another workspace never see or move the device or its account's events.
 */
export async function assertOutOfReach(srv, otherToken, deviceId, accountId) {
  const seamB = sdkFromToken(srv, otherToken)
  assert.ok(!(await seamB.devices.list()).some((d) => d.device_id === deviceId))
  await sdkRejects(seamB.devices.get({ device_id: deviceId }), 404)
  await sdkRejects(seamB.locks.unlockDoor({ device_id: deviceId }), 404)
  await sdkRejects(seamB.locks.lockDoor({ device_id: deviceId }), 404)
  await sdkRejects(seamB.connectedAccounts.get({ connected_account_id: accountId }), 404)
  const theirs = await seamB.events.list({ since: '2020-01-01T00:00:00Z' })
  assert.ok(!theirs.some((e) => e.device_id === deviceId || e.connected_account_id === accountId))
  const other = await newSandboxWorkspace(srv, 'Elsewhere')
  const seamC = sdkFromApiKey(srv, other.apiKey)
  await sdkRejects(seamC.devices.get({ device_id: deviceId }), 404)
  await sdkRejects(seamC.locks.unlockDoor({ device_id: deviceId }), 404)
  await sdkRejects(seamC.locks.lockDoor({ device_id: deviceId }), 404)
}

/** None of the secrets is in an API answer, the server's logs or its database. */
export async function assertNowhere(srv, secrets) {
  const seam = sdkFromApiKey(srv, SEED.apiKey1)
  const answers = JSON.stringify([
    await seam.connectedAccounts.list(),
    await seam.connectWebviews.list(),
    await seam.devices.list(),
    await seam.events.list({ since: '2020-01-01T00:00:00Z' }),
  ])
  const database =
    BACKEND === 'postgres'
      ? [['the database', Buffer.from(await pgDump(srv.dataDir))]]
      : fs.readdirSync(srv.dataDir).map((f) => [f, fs.readFileSync(path.join(srv.dataDir, f))])
  for (const secret of secrets) {
    assert.ok(!answers.includes(secret), 'not in an API answer')
    assert.ok(!srv.stderr().includes(secret) && !srv.stdout().includes(secret), 'not in the logs')
    for (const [where, bytes] of database) assert.ok(!bytes.includes(Buffer.from(secret)), `not in ${where}`)
  }
}

/** Asserts that the SDK call's action attempt fails with this error type. */
export const failsWith = (promise, type) =>
  assert.rejects(promise, (err) => {
    assert.ok(err instanceof SeamActionAttemptFailedError, String(err))
    assert.equal(err.code, type)
    return true
  })

/**
 * The device goes offline at the provider (setOnline(false)): the API shows
 * it offline with a device_offline error, an unlock fails at once; back
 * online (setOnline(true)): no error, and both events recorded.
 */
export async function offlineAndBack(seam, deviceId, setOnline) {
  const get = () => seam.devices.get({ device_id: deviceId })
  await setOnline(false)
  const offline = await waitFor(
    async () => {
      const d = await get()
      return !d.properties.online && d
    },
    { what: 'offline' },
  )
  assert.equal(offline.errors[0].error_code, 'device_offline')
  await failsWith(seam.locks.unlockDoor({ device_id: deviceId }), 'device_offline')
  await setOnline(true)
  await waitFor(async () => (await get()).properties.online, { what: 'online again' })
  assert.deepEqual((await get()).errors, [])
  const types = (
    await seam.events.list({ device_id: deviceId, since: '2020-01-01T00:00:00Z' })
  ).map((e) => e.event_type)
  assert.ok(types.includes('device.disconnected') && types.includes('device.connected'), types.join())
}
