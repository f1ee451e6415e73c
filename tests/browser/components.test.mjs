// Seam Components on the browser example's /components.html against
// latchkey, in Debian's chromium, as the fixture's john (seam_cst1_token,
// which the example's backend gets for ?user=john_user_identifier_key): the
// details of each device type of the fixture open and show what latchkey
// has; the thermostat's climate controls change its mode (heat → cool, then
// off) and its fan mode through thermostats/cool, off and set_fan_mode, which
// the API confirms; the components' telemetry and device-database lookups
// get 404 in the API's error shape, and the page loads nothing from elsewhere
// but the device picture its CSP blocks; the access-code table creates, edits
// and deletes a code. docs/seam-components.md lists what the components call.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { SeamHttp } from '@seamapi/http/connect'

import { SEED } from '../api/harness.mjs'
import { waitFor } from '../api/webview_flow.mjs'
import { ACTION_MS, TEST_MS, launchBrowser, openPage, screenshot } from './browser.mjs'
import { openExample, startSeededExample } from './example_support.mjs'

let latchkey
let example
let browser
let seam
let john // { context, page, requests, responses }
const sent = [] // the page's thermostats/* requests: { path, body, attempt: Promise<id | undefined> }

/**
 * Routes the components call that other branches serve: until they are
 * merged, latchkey answers them 404 in its error shape and the components
 * show that part empty ("– access codes", no noise thresholds).
 */
const NOT_YET_SERVED = new Set(['/access_codes/list', '/noise_sensors/noise_thresholds/list'])

const THERMOSTAT = 'ecobee_device_1'
const DEVICES = {
  lock: 'Fake August Lock 1',
  thermostat: 'Thermostat 1',
  sensor: 'Minut Sensor 1',
}

before(async () => {
  ;({ latchkey, example } = await startSeededExample())
  browser = await launchBrowser()
  seam = SeamHttp.fromApiKey(SEED.apiKey1, { endpoint: latchkey.url })
  john = await openPage(browser)
  john.context.on('request', (req) => {
    const url = new URL(req.url())
    if (url.origin !== latchkey.url || !url.pathname.startsWith('/thermostats/')) return
    const attempt = req
      .response()
      .then((res) => res?.json())
      .then((body) => body?.action_attempt?.action_attempt_id)
      .catch(() => undefined) // cut short by the page's navigation
    sent.push({ path: url.pathname, body: req.postDataJSON(), attempt })
  })
})

after(async () => {
  await john?.context.close().catch(() => {})
  await browser?.close()
  await example?.stop()
  await latchkey?.stop()
})

const latchkeyAnswers = (since) =>
  john.responses.slice(since).filter((r) => r.url.startsWith(latchkey.url))
const pathOf = (r) => new URL(r.url).pathname

/**
 * latchkey answered every request since `since` without an error, but the
 * 404s of NOT_YET_SERVED, each in the API's error shape.
 */
async function assertNoErrorsSince(since) {
  const errors = latchkeyAnswers(since).filter((r) => r.status >= 400)
  const unexpected = errors.filter((r) => r.status !== 404 || !NOT_YET_SERVED.has(pathOf(r)))
  assert.deepEqual(unexpected.map((r) => `${pathOf(r)} ${r.status}`), [], 'latchkey answered an error')
  for (const path of new Set(errors.map(pathOf))) {
    const res = await fetch(`${latchkey.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SEED.cst1}`, 'content-type': 'application/json' },
      body: '{}',
    })
    const body = await res.json()
    assert.deepEqual([res.status, body.ok, body.error.type], [404, false, 'not_found'], path)
  }
}

/** The components page, signed in as john, with his four devices listed. */
async function openTable() {
  const { page } = john
  await openExample(page, `${example.url}/components.html?user=${SEED.johnKey}`)
  await page.locator('seam-device-table .seam-table-title .seam-caption', { hasText: '(4)' }).waitFor()
  return page.locator('seam-device-table')
}

/** Opens a device's details from the table (rows show properties.name). */
async function openDevice(name) {
  const table = await openTable()
  await table.locator('.seam-table-row', { hasText: name }).click()
  await table.locator('.seam-device-details').waitFor()
  return table
}

/** Polls the API until the thermostat's properties satisfy ok; returns them. */
function waitThermostat(ok, what) {
  return waitFor(
    async () => {
      const { properties } = await seam.devices.get({ device_id: THERMOSTAT })
      return ok(properties) && properties
    },
    { ms: ACTION_MS, every: 100, what: `the thermostat to have ${what}` },
  )
}

/**
 * The action attempt of every thermostats/* request the page sent is done, so
 * no earlier one lands after the next. (After a change the components send it
 * once more 2 s later, which reopening the page stops; one that a reload cut
 * short has no attempt to wait for, and would only repeat that change. An
 * error answer fails assertNoErrorsSince.)
 */
async function thermostatSettled() {
  for (const { path, attempt } of sent) {
    const id = await attempt
    if (!id) continue
    await waitFor(async () => (await seam.actionAttempts.get({ action_attempt_id: id })).status !== 'pending', {
      ms: ACTION_MS,
      every: 100,
      what: `the action attempt of ${path}`,
    })
  }
}

/** The open menu (menus are portals at the end of the body, shown by class). */
const openMenu = () => john.page.locator('.seam-menu-bg.seam-menu-visible')

/** Picks an entry of the open menu, which then closes. */
async function pickFromMenu(label) {
  await openMenu().locator('.seam-menu-item', { hasText: new RegExp(`^${label}$`) }).click()
  await openMenu().waitFor({ state: 'detached' })
}

/** A snackbar the components show (all are in the page, shown by class). */
const snackbar = (scope, text) =>
  scope.locator('.seam-snackbar.seam-snackbar-visible .seam-snackbar-message', { hasText: text })

/** The thermostat's "Climate" row (an accordion) in its details. */
const climateRow = (details) =>
  details.locator('.seam-accordion-row', {
    has: john.page.locator('.seam-row-label', { hasText: 'Climate' }),
  })

/** Sets the components' climate mode (the row must be open). */
async function chooseMode(row, label) {
  await row.locator('.seam-climate-mode-menu-button').click()
  await pickFromMenu(label)
}

describe('Seam Components against latchkey', { timeout: TEST_MS * 4 }, () => {
  it('the details of each device type of the fixture', { timeout: TEST_MS }, async () => {
    const since = john.responses.length
    const sinceRequests = john.requests.length

    // A lock: status, lock state and action, device info.
    let details = await openDevice(DEVICES.lock)
    await details.getByText('Lock status', { exact: true }).waitFor()
    await details.getByRole('button', { name: 'Unlock', exact: true }).waitFor()
    await details.locator('.seam-access-codes', { hasText: /^(–|\d+) access codes$/ }).waitFor()
    await details.getByText('john@example.com', { exact: true }).waitFor() // connected_accounts/get
    await details.getByText('august_device_1', { exact: true }).waitFor()
    await screenshot(john.page, 'components-lock-details')

    // The thermostat: temperature, humidity and set points in °F (latchkey
    // holds °C), its modes, the fan mode.
    details = await openDevice(DEVICES.thermostat)
    const card = details.locator('.seam-thermostat-card')
    await card.getByText('70°F', { exact: true }).waitFor() // 21.5 °C (70.7 °F), truncated
    await card.getByText('40%', { exact: true }).waitFor()
    await card.locator('.seam-climate-setting-status-icon-cool').waitFor()
    assert.doesNotMatch(await card.innerText(), /NaN/)
    const row = climateRow(details)
    await row.locator('.seam-accordion-row-trigger').click()
    await row.locator('.seam-climate-mode-menu-button').click()
    const modes = openMenu().locator('.seam-menu-item')
    await modes.first().waitFor()
    assert.deepEqual(
      (await modes.allInnerTexts()).map((s) => s.trim()),
      ['Off', 'Heat', 'Cool', 'Heat & Cool'], // the order of available_hvac_mode_settings
    )
    await screenshot(john.page, 'components-thermostat-modes')
    await openMenu().click({ position: { x: 5, y: 5 } }) // outside the menu: closes it
    await openMenu().waitFor({ state: 'detached' })
    assert.equal(
      await row.locator('input.seam-temperature-range[data-variant=cool]').inputValue(),
      '75', // 24 °C is 75.2 °F; the slider steps in whole degrees
    )
    // Looking changes nothing: the components compare the set points they
    // show with the thermostat's and send a change 2 s after a difference,
    // so watch for longer than that.
    await new Promise((r) => setTimeout(r, 3000))
    assert.deepEqual(sent, [], 'opening the thermostat sent a change')
    assert.equal(await snackbar(details, 'Error').count(), 0)
    await details.getByText(/^Manage \(\d+ Presets?\)$/).waitFor() // available_climate_presets
    await details.locator('.seam-fan-mode-menu-button-text', { hasText: 'Auto' }).waitFor()

    // The noise sensor: its noise level, the activity tab (events/list).
    details = await openDevice(DEVICES.sensor)
    const { properties } = await seam.devices.get({ device_id: 'minut_device_1' })
    await details.getByText(`${Number(properties.noise_level_decibels).toFixed(0)} dB`).waitFor()
    await details.getByText('Noise thresholds', { exact: true }).waitFor()
    await screenshot(john.page, 'components-noise-sensor-details')
    const listed = john.page.waitForResponse((r) => r.url() === `${latchkey.url}/events/list`)
    await details.getByText('Activity', { exact: true }).click()
    assert.equal((await listed).status(), 200)

    await assertNoErrorsSince(since)
    // Nothing but this server and latchkey answered; the components' fallback
    // device picture (connect.getseam.com) was asked for and blocked.
    const own = [example.url, latchkey.url]
    const elsewhere = john.requests.slice(sinceRequests).filter((r) => !own.includes(new URL(r.url).origin))
    for (const r of elsewhere) assert.match(r.url, /^https:\/\/connect\.getseam\.com\/assets\/images\/devices\//)
    assert.deepEqual(
      john.responses.slice(since).filter((r) => !own.includes(new URL(r.url).origin)),
      [],
      'a response from elsewhere',
    )
  })

  it("the thermostat's climate and fan controls; the API confirms each change", { timeout: TEST_MS }, async () => {
    // Heating to 20 °C (68 °F), cooling set point 24 °C (75.2 °F) kept.
    await seam.thermostats.heat({ device_id: THERMOSTAT, heating_set_point_celsius: 20 })
    const since = john.responses.length
    const start = sent.length

    // heat → cool: choose Cool, then raise the cooling set point a degree (the
    // components send a change only when a set point differs from the
    // thermostat's, or for Off).
    let details = await openDevice(DEVICES.thermostat)
    let row = climateRow(details)
    await row.locator('.seam-row-trigger-right-content .seam-climate-setting-status-icon-heat').waitFor()
    await row.locator('.seam-accordion-row-trigger').click()
    await chooseMode(row, 'Cool')
    const cool = row.locator('.seam-temperature-control', {
      has: john.page.locator('input.seam-temperature-range[data-variant=cool]'),
    })
    await cool.locator('.seam-temperature-stepper-button').last().click()
    await row.locator('.seam-thermostat-mutation-status.is-visible', { hasText: 'Saved' }).waitFor()
    await row.locator('.seam-row-trigger-right-content .seam-climate-setting-status-icon-cool').waitFor()
    await screenshot(john.page, 'components-thermostat-cool')
    assert.deepEqual(
      [sent[start].path, sent[start].body],
      ['/thermostats/cool', { device_id: THERMOSTAT, cooling_set_point_fahrenheit: 76.2 }],
    )
    let p = await waitThermostat((p) => p.current_climate_setting.hvac_mode_setting === 'cool', 'cooled')
    assert.equal(p.current_climate_setting.cooling_set_point_fahrenheit, 76.2)
    assert.ok(Math.abs(p.current_climate_setting.cooling_set_point_celsius - 24.56) < 0.01)

    // Fan mode auto → on: thermostats/set_fan_mode at once.
    details = await openDevice(DEVICES.thermostat)
    await thermostatSettled()
    const cooled = sent.length
    await details.locator('.seam-fan-mode-menu-button').click()
    await pickFromMenu('On')
    await snackbar(details, 'Successfully updated fan mode!').waitFor()
    await details.locator('.seam-fan-mode-menu-button-text', { hasText: 'On' }).waitFor()
    assert.deepEqual(sent[cooled].body, { device_id: THERMOSTAT, fan_mode_setting: 'on' })
    await waitThermostat((p) => p.fan_mode_setting === 'on', 'turned its fan on')

    // cool → off: choosing Off is enough.
    details = await openDevice(DEVICES.thermostat)
    await thermostatSettled()
    const fanned = sent.length
    row = climateRow(details)
    await row.locator('.seam-accordion-row-trigger').click()
    await chooseMode(row, 'Off')
    await row.locator('.seam-thermostat-mutation-status.is-visible', { hasText: 'Saved' }).waitFor()
    await row.locator('.seam-row-trigger-right-content .seam-climate-setting-status-icon-off').waitFor()
    await screenshot(john.page, 'components-thermostat-off')
    assert.deepEqual([sent[fanned].path, sent[fanned].body], ['/thermostats/off', { device_id: THERMOSTAT }])
    p = await waitThermostat((p) => p.current_climate_setting.hvac_mode_setting === 'off', 'turned off')
    assert.equal(p.fan_mode_setting, 'on', 'the fan mode stays')
    await openTable() // stops the components' repeat of the last change
    await thermostatSettled()
    await assertNoErrorsSince(since)
  })

  it("the components' telemetry and device-database lookups get latchkey's error shape", { timeout: TEST_MS }, async () => {
    const { page } = john
    await openTable()
    // The page turns telemetry off; a second table with it on sends the
    // components' events to <endpoint>/internal/tlmtry, unauthenticated.
    const telemetry = page.waitForResponse((r) => r.url() === `${latchkey.url}/internal/tlmtry`)
    await page.evaluate(
      ({ endpoint, token }) => {
        globalThis.disableSeamTelemetry = false
        const table = document.createElement('seam-device-table')
        table.id = 'with-telemetry'
        table.setAttribute('endpoint', endpoint)
        table.setAttribute('client-session-token', token)
        table.setAttribute('disable-css-injection', 'true')
        table.setAttribute('disable-font-injection', 'true')
        document.getElementById('components').append(table)
      },
      { endpoint: latchkey.url, token: SEED.cst1 },
    )
    const res = await telemetry
    assert.equal(res.status(), 404)
    assert.equal(res.headers()['access-control-allow-origin'], example.url, 'the page may read the answer')
    assert.deepEqual(await res.json(), {
      error: { type: 'not_found', message: 'No route /internal/tlmtry.' },
      ok: false,
    })
    // The table with telemetry on works all the same.
    await page.locator('#with-telemetry .seam-table-title .seam-caption', { hasText: '(4)' }).waitFor()

    // <seam-supported-device-table>'s lookups, with the session's token.
    const answers = await page.evaluate(
      async ({ endpoint, token }) => {
        const paths = [
          '/internal/devicedb/v1/device_models/list',
          '/internal/devicedb/v1/manufacturers/list',
          '/internal/devicedb/v1/manufacturers/get',
        ]
        const headers = { authorization: `Bearer ${token}`, 'client-session-token': token }
        return Promise.all(
          paths.map(async (path) => {
            const r = await fetch(`${endpoint}${path}`, { headers, credentials: 'include' })
            return { path, status: r.status, body: await r.json() }
          }),
        )
      },
      { endpoint: latchkey.url, token: SEED.cst1 },
    )
    for (const { path, status, body } of answers) {
      assert.deepEqual([status, body.ok, body.error.type], [404, false, 'not_found'], path)
    }
  })

  // The components show the "+" only for a lock with
  // can_program_online_access_codes: true. The selectors follow
  // @seamapi/react 4.14.2's markup.
  it('the access-code table: create, edit and delete a code with the components', { timeout: TEST_MS }, async () => {
    const { page } = john
    const device_id = 'august_device_1'
    const waitCodes = (ok, what) =>
      waitFor(
        async () => {
          const codes = await seam.accessCodes.list({ device_id })
          return ok(codes) && codes
        },
        { ms: ACTION_MS, every: 100, what: `the lock's codes to ${what}` },
      )
    const openCodes = async () => {
      const details = await openDevice(DEVICES.lock)
      await details.locator('.seam-access-codes', { hasText: /^\d+ access codes$/ }).click()
      await details.locator('.seam-table-title', { hasText: 'Access Codes' }).waitFor()
      return details
    }
    const since = john.responses.length
    let table = await openCodes()

    // Create: the "+" opens the form; name and PIN, ongoing, Save.
    await table.locator('.seam-add-button').click()
    const form = table.locator('.seam-access-code-form')
    await form.locator('input[name=name]').fill('Cleaner')
    await form.locator('input[name=code]').fill('4821')
    await form.getByRole('button', { name: 'Save', exact: true }).click()
    await snackbar(table, 'Access code created').waitFor()
    const row = table.locator('.seam-table-row', { hasText: 'Cleaner' })
    await row.waitFor()
    await screenshot(page, 'components-access-code-created')
    const listed = await waitCodes((l) => l.some((c) => c.name === 'Cleaner'), 'list Cleaner')
    const created = listed.find((c) => c.name === 'Cleaner')
    assert.equal(created.code, '4821')

    // Edit: the row's menu, "Edit code", a new name, Save.
    await row.locator('.seam-action-cell .seam-icon-btn').click()
    await pickFromMenu('Edit code')
    await form.locator('input[name=name]').fill('Cleaner (weekdays)')
    await form.getByRole('button', { name: 'Save', exact: true }).click()
    await snackbar(table, 'Access code updated').waitFor()
    await waitCodes((l) => l.some((c) => c.name === 'Cleaner (weekdays)'), 'show the new name')
    // The components update their list when they fetch it again.
    table = await openCodes()
    const renamed = table.locator('.seam-table-row', { hasText: 'Cleaner (weekdays)' })
    await renamed.waitFor()

    // Delete: the row's menu, "Delete code", confirm.
    await renamed.locator('.seam-action-cell .seam-icon-btn').click()
    await openMenu().locator('.seam-menu-item', { hasText: 'Delete code' }).click()
    await openMenu().locator('.seam-delete-confirmation').getByRole('button', { name: 'Delete', exact: true }).click()
    await snackbar(table, 'Access code is being removed').waitFor()
    await waitCodes((l) => !l.some((c) => c.access_code_id === created.access_code_id), 'drop the code')
    table = await openCodes()
    await table.getByText('Sorry, no access codes were found').waitFor()
    await screenshot(page, 'components-access-code-deleted')
    await assertNoErrorsSince(since)
  })
})
