// Connecting real systems through the connect webview in headless Chromium,
// with JavaScript off (the page must not need it): a Zigbee2MQTT bridge on a
// real Mosquitto broker and a Home-Assistant-like server (tools/devsim). The
// form asks for the provider's settings, a wrong password or token comes
// back as the form with why, the "connecting" page refreshes itself until
// the account is there, and its locks are devices.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'

import { SEED, sdkFromApiKey, startServer, stopAll } from '../api/harness.mjs'
import { startBroker, startDevsim } from '../lib/devsim.mjs'
import { TEST_MS, heading, launchBrowser, openPage, screenshot } from './browser.mjs'

const PASSWORD = `broker-${randomUUID()}`
const HA_TOKEN = `ha-${randomUUID()}`

let server, browser, broker, sim, seam

before(async () => {
  broker = await startBroker({ user: 'latchkey', password: PASSWORD })
  ;[server, browser, sim] = await Promise.all([
    startServer(),
    launchBrowser(),
    startDevsim({
      mqtt: broker.url,
      mqttUsername: 'latchkey',
      mqttPassword: PASSWORD,
      haPort: 0,
      haToken: HA_TOKEN,
      zigbeeLocks: 2,
      haLocks: 2,
    }),
  ])
  seam = sdkFromApiKey(server, SEED.apiKey1)
})

after(() =>
  stopAll(
    () => browser?.close(),
    () => server?.stop(),
    () => sim?.stop(),
    () => broker?.stop(),
  ),
)

/** Fills the form's fields (by name), presses Connect, waits for the next page. */
async function submitForm(page, fields) {
  for (const [name, value] of Object.entries(fields)) await page.locator(`input[name="${name}"]`).fill(value)
  await Promise.all([page.waitForEvent('framenavigated'), page.locator('button[value="login"]').click()])
  await page.waitForLoadState()
}

/** Waits (through the page's own refreshes) for a heading that is not "Connecting…". */
async function settledHeading(page) {
  const deadline = Date.now() + 20_000
  for (;;) {
    const h = await heading(page)
    if (!/^Connecting/.test(h)) return h
    if (Date.now() > deadline) assert.fail('the page kept saying Connecting')
    await page.waitForTimeout(200)
  }
}

async function connect(provider, wrong, right, shot) {
  const wv = await seam.connectWebviews.create({ accepted_providers: [provider] })
  const { context, page } = await openPage(browser, { javaScriptEnabled: false })
  try {
    await page.goto(wv.url)
    await screenshot(page, `${shot}-form`)
    await submitForm(page, wrong)
    assert.match(await settledHeading(page), /^Connect /)
    const alert = await page.locator('[role="alert"]').textContent()
    assert.match(alert, /refused/)
    await screenshot(page, `${shot}-refused`)
    await submitForm(page, right)
    await screenshot(page, `${shot}-after-submit`)
    assert.equal(await settledHeading(page), 'Connected')
    await screenshot(page, `${shot}-connected`)
  } finally {
    await context.close()
  }
  const after_ = await seam.connectWebviews.get({ connect_webview_id: wv.connect_webview_id })
  assert.equal(after_.status, 'authorized')
  const devices = await seam.devices.list({ connected_account_id: after_.connected_account_id })
  assert.equal(devices.length, 2)
  return devices
}

describe('connecting real systems in Chromium without JavaScript', { timeout: TEST_MS }, () => {
  it('Zigbee2MQTT: broker, login and base topic', async () => {
    const right = { broker: broker.url, username: 'latchkey', password: PASSWORD, base_topic: 'zigbee2mqtt' }
    await connect('zigbee2mqtt', { ...right, password: 'wrong' }, right, 'zigbee2mqtt')
  })

  it('Home Assistant: address and access token', async () => {
    const right = { url: sim.info.ha, token: HA_TOKEN }
    await connect('home_assistant', { ...right, token: 'wrong' }, right, 'home-assistant')
  })
})
