// thermostats/list through the SDK and thermostats/get (which the SDK
// version we use no longer has, still in the OpenAPI) raw: the thermostats in
// scope (the fixture's ecobee, and those of a sandbox ecobee login), never a
// lock; responses valid against the OpenAPI; 404 for a lock or another
// workspace's thermostat. The climate actions through the SDK (which waits
// for their action attempts): heat, cool, heat_cool, off, set_hvac_mode,
// set_fan_mode change current_climate_setting (set points in both units);
// set_temperature_threshold at once; bad set points refused; scope. Climate
// presets: create, update, delete and set_fallback at once,
// activate_climate_preset as an attempt that applies the preset; unknown and
// duplicate keys, set points the thermostat does not take, its own presets
// (which cannot be deleted); scope. Sandbox thermostats report what the
// OpenAPI and Seam Components read, and a server with a fast pace
// (--climate-degrees-per-hour) moves the temperature to the set point, seen
// through cached routes too.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import {
  SEED,
  assertResponseMatchesSchema,
  call,
  createSession,
  sdkFromApiKey,
  sdkFromToken,
  sleep,
  useServer,
} from './harness.mjs'
import { LOGINS, accountDevices, connectAccount, waitFor } from './webview_flow.mjs'

const srv = useServer()
const ID = 'ecobee_device_1'

describe('thermostats', () => {
  it('list and get the thermostats in scope', async () => {
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    const { connected_account_id: account } = await connectAccount(srv, SEED.apiKey1, {
      provider: 'ecobee',
      username: LOGINS.jane,
    })
    const thermostats = await seam.thermostats.list()
    const ids = thermostats.map((t) => t.device_id)
    assert.ok(ids.includes('ecobee_device_1'))
    assert.equal(thermostats.filter((t) => t.connected_account_id === account).length, 2)
    assert.ok(thermostats.every((t) => t.device_type === 'ecobee_thermostat'))
    const one = await call(srv, '/thermostats/get', { token: SEED.apiKey1, body: { device_id: 'ecobee_device_1' } })
    assert.equal(one.body.thermostat.device_id, 'ecobee_device_1')
    const narrowed = await seam.thermostats.list({ connected_account_id: account })
    assert.equal(narrowed.length, 2)
    for (const [route, body] of [
      ['/thermostats/list', {}],
      ['/thermostats/get', { device_id: 'ecobee_device_1' }],
    ]) {
      const res = await call(srv, route, { token: SEED.apiKey1, body })
      assert.equal(res.status, 200, res.text)
      assertResponseMatchesSchema(route, res.body)
    }
  })

  it('a lock is not a thermostat; scope holds', async () => {
    const get = (token, device_id) => call(srv, '/thermostats/get', { token, body: { device_id } })
    const lock = await get(SEED.apiKey1, 'august_device_1')
    assert.equal(lock.status, 404)
    assert.equal(lock.body.error.type, 'device_not_found')
    assert.equal((await get(SEED.apiKey2, 'ecobee_device_1')).status, 404)
    const jane = await createSession(srv, SEED.apiKey1, { connected_account_ids: [SEED.janeAccount] })
    assert.equal((await get(jane.token, 'ecobee_device_1')).status, 404, "another user's thermostat")
    const session = await sdkFromToken(srv, SEED.cst1).thermostats.list()
    assert.deepEqual(session.map((t) => t.device_id), ['ecobee_device_1'])
  })

  const climate = async (seam, id) =>
    (await seam.devices.get({ device_id: id })).properties.current_climate_setting

  it('heat, cool, heat_cool, off and set_hvac_mode change the climate setting', async () => {
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    const id = 'ecobee_device_1'
    const heat = await seam.thermostats.heat({ device_id: id, heating_set_point_celsius: 21.5 })
    assert.equal(heat.status, 'success')
    assert.equal(heat.action_type, 'SET_HVAC_MODE')
    let setting = await climate(seam, id)
    assert.equal(setting.hvac_mode_setting, 'heat')
    assert.equal(setting.heating_set_point_celsius, 21.5)
    assert.equal(setting.heating_set_point_fahrenheit, 70.7)
    await seam.thermostats.cool({ device_id: id, cooling_set_point_fahrenheit: 77 })
    setting = await climate(seam, id)
    assert.equal(setting.hvac_mode_setting, 'cool')
    assert.equal(setting.cooling_set_point_celsius, 25)
    await seam.thermostats.heatCool({ device_id: id, heating_set_point_celsius: 19, cooling_set_point_celsius: 24 })
    setting = await climate(seam, id)
    assert.deepEqual(
      [setting.hvac_mode_setting, setting.heating_set_point_celsius, setting.cooling_set_point_celsius],
      ['heat_cool', 19, 24],
    )
    await seam.thermostats.off({ device_id: id })
    assert.equal((await climate(seam, id)).hvac_mode_setting, 'off')
    await seam.thermostats.setHvacMode({ device_id: id, hvac_mode_setting: 'heat', heating_set_point_celsius: 20 })
    assert.equal((await climate(seam, id)).hvac_mode_setting, 'heat')
    const fan = await seam.thermostats.setFanMode({ device_id: id, fan_mode_setting: 'circulate' })
    assert.equal(fan.action_type, 'SET_FAN_MODE')
    const device = await seam.devices.get({ device_id: id })
    assert.equal(device.properties.fan_mode_setting, 'circulate')
    const raw = await call(srv, '/thermostats/heat', {
      token: SEED.apiKey1,
      body: { device_id: id, heating_set_point_celsius: 22 },
    })
    assertResponseMatchesSchema('/thermostats/heat', raw.body)
    const listed = await call(srv, '/devices/get', { token: SEED.apiKey1, body: { device_id: id } })
    assertResponseMatchesSchema('/devices/get', listed.body)
  })

  it('set_temperature_threshold, and set points that make no sense are refused', async () => {
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    const id = 'ecobee_device_1'
    await seam.thermostats.setTemperatureThreshold({ device_id: id, lower_limit_celsius: 15, upper_limit_celsius: 28 })
    const t = (await seam.devices.get({ device_id: id })).properties.temperature_threshold
    assert.deepEqual([t.lower_limit_celsius, t.upper_limit_celsius, t.upper_limit_fahrenheit], [15, 28, 82.4])
    for (const [route, body, key] of [
      ['/thermostats/heat', { device_id: id, heating_set_point_celsius: 500 }, 'heating_set_point_celsius'],
      ['/thermostats/heat', { device_id: id, heating_set_point_celsius: 20, heating_set_point_fahrenheit: 68 }, 'heating_set_point_fahrenheit'],
      ['/thermostats/heat_cool', { device_id: id, heating_set_point_celsius: 25, cooling_set_point_celsius: 20 }, 'heating_set_point_celsius'],
      ['/thermostats/set_hvac_mode', { device_id: id, hvac_mode_setting: 'turbo' }, 'hvac_mode_setting'],
      ['/thermostats/set_fan_mode', { device_id: id, fan_mode_setting: 'gale' }, 'fan_mode_setting'],
      ['/thermostats/set_temperature_threshold', { device_id: id, lower_limit_celsius: 30, upper_limit_celsius: 10 }, 'lower_limit_celsius'],
    ]) {
      const res = await call(srv, route, { token: SEED.apiKey1, body })
      assert.equal(res.status, 400, `${route} ${JSON.stringify(body)}: ${res.text}`)
      assert.ok(JSON.stringify(res.body.error).includes(key), `${route}: ${res.text}`)
    }
  })

  it('no climate action on a lock, on another user\'s or another workspace\'s thermostat', async () => {
    const jane = await createSession(srv, SEED.apiKey1, { connected_account_ids: [SEED.janeAccount] })
    for (const [token, device_id] of [
      [SEED.apiKey1, 'august_device_1'],
      [SEED.apiKey2, 'ecobee_device_1'],
      [jane.token, 'ecobee_device_1'],
    ]) {
      for (const [route, extra] of [
        ['/thermostats/off', {}],
        ['/thermostats/set_fan_mode', { fan_mode_setting: 'auto' }],
        ['/thermostats/set_temperature_threshold', { lower_limit_celsius: 10 }],
      ]) {
        const res = await call(srv, route, { token, body: { device_id, ...extra } })
        assert.equal(res.status, 404, `${route} ${device_id}: ${res.text}`)
      }
    }
    // The session that holds it may act on it.
    const john = await sdkFromToken(srv, SEED.cst1).thermostats.off({ device_id: 'ecobee_device_1' })
    assert.equal(john.status, 'success')
  })
})

describe('sandbox thermostats', () => {
  it('report modes, set point limits, presets and state in both units, valid against the OpenAPI', async () => {
    const { connected_account_id: account } = await connectAccount(srv, SEED.apiKey1, {
      provider: 'ecobee',
      username: LOGINS.john,
    })
    const [device] = await accountDevices(srv, SEED.apiKey1, account)
    const res = await call(srv, '/thermostats/get', { token: SEED.apiKey1, body: { device_id: device.device_id } })
    assertResponseMatchesSchema('/thermostats/get', res.body)
    const p = res.body.thermostat.properties
    assert.deepEqual(p.available_hvac_mode_settings, ['off', 'heat', 'cool', 'heat_cool'])
    assert.deepEqual(p.available_fan_mode_settings, ['auto', 'on', 'circulate'])
    assert.deepEqual([p.temperature_celsius, p.temperature_fahrenheit], [21.5, 70.7])
    assert.deepEqual([p.is_heating, p.is_cooling, p.is_fan_running], [false, false, false])
    assert.deepEqual(
      [p.min_heating_set_point_fahrenheit, p.max_heating_set_point_fahrenheit, p.min_cooling_set_point_fahrenheit, p.max_cooling_set_point_fahrenheit],
      [45, 79, 65, 92],
    )
    assert.deepEqual([p.min_heating_cooling_delta_celsius, p.min_heating_cooling_delta_fahrenheit], [2.78, 5])
    assert.equal(p.current_climate_setting.heating_set_point_fahrenheit, 68)
    assert.equal(p.fallback_climate_preset_key, null)
    assert.deepEqual(p.available_climate_presets.map((c) => c.climate_preset_key), ['home', 'away', 'sleep'])
    for (const preset of p.available_climate_presets) {
      assert.equal(preset.can_delete, false)
      assert.equal(preset.can_edit, true)
      assert.equal(preset.ecobee_metadata.owner, 'system')
      assert.equal(preset.cooling_set_point_fahrenheit, Math.round((preset.cooling_set_point_celsius * 9) / 5 * 10 + 320) / 10)
    }
    // Its own presets are changed, not deleted.
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    const del = await call(srv, '/thermostats/delete_climate_preset', {
      token: SEED.apiKey1,
      body: { device_id: device.device_id, climate_preset_key: 'home' },
    })
    assert.equal(del.status, 400, del.text)
    assert.equal(del.body.error.type, 'climate_preset_cannot_be_deleted')
    await seam.thermostats.updateClimatePreset({ device_id: device.device_id, climate_preset_key: 'home', heating_set_point_celsius: 19 })
    const home = (await seam.devices.get({ device_id: device.device_id })).properties.available_climate_presets[0]
    assert.deepEqual([home.climate_preset_key, home.heating_set_point_celsius, home.heating_set_point_fahrenheit], ['home', 19, 66.2])
  })
})

describe('climate presets', () => {
  const props = async (seam) => (await seam.devices.get({ device_id: ID })).properties
  const presetOf = async (seam, key) => (await props(seam)).available_climate_presets.find((p) => p.climate_preset_key === key)

  it('create, update, set_fallback, activate and delete, each valid against the OpenAPI', async () => {
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    const raw = (route, body, method) => call(srv, route, { token: SEED.apiKey1, method, body })
    const created = await raw('/thermostats/create_climate_preset', {
      device_id: ID,
      climate_preset_key: 'evening',
      name: 'Evening',
      climate_preset_mode: 'home',
      hvac_mode_setting: 'heat_cool',
      heating_set_point_fahrenheit: 68,
      cooling_set_point_celsius: 25,
      fan_mode_setting: 'on',
      ecobee_metadata: { climate_ref: 'evening', is_optimized: false, owner: 'user' },
    })
    assert.equal(created.status, 200, created.text)
    assertResponseMatchesSchema('/thermostats/create_climate_preset', created.body)
    let preset = await presetOf(seam, 'evening')
    assert.deepEqual(
      [preset.name, preset.display_name, preset.heating_set_point_celsius, preset.heating_set_point_fahrenheit, preset.cooling_set_point_fahrenheit],
      ['Evening', 'Evening', 20, 68, 77],
    )
    assert.deepEqual([preset.can_edit, preset.can_delete, preset.manual_override_allowed], [true, true, true])
    assert.equal(preset.ecobee_metadata.climate_ref, 'evening')

    await seam.thermostats.createClimatePreset({ device_id: ID, climate_preset_key: 'night', hvac_mode_setting: 'heat', heating_set_point_celsius: 17 })
    preset = await presetOf(seam, 'night')
    assert.deepEqual([preset.name, preset.display_name], [null, 'night'], 'without a name, the key is its display name')

    const updated = await raw('/thermostats/update_climate_preset', { device_id: ID, climate_preset_key: 'evening', name: null, cooling_set_point_celsius: 26 }, 'PATCH')
    assert.equal(updated.status, 200, updated.text)
    assertResponseMatchesSchema('/thermostats/update_climate_preset', updated.body, 'patch')
    preset = await presetOf(seam, 'evening')
    assert.deepEqual([preset.display_name, preset.cooling_set_point_celsius, preset.heating_set_point_celsius], ['evening', 26, 20])

    const fallback = await raw('/thermostats/set_fallback_climate_preset', { device_id: ID, climate_preset_key: 'night' })
    assertResponseMatchesSchema('/thermostats/set_fallback_climate_preset', fallback.body)
    assert.equal((await props(seam)).fallback_climate_preset_key, 'night')

    const attempt = await seam.thermostats.activateClimatePreset({ device_id: ID, climate_preset_key: 'evening' })
    assert.deepEqual([attempt.action_type, attempt.status], ['ACTIVATE_CLIMATE_PRESET', 'success'])
    let p = await props(seam)
    assert.deepEqual(
      [p.current_climate_setting.climate_preset_key, p.current_climate_setting.hvac_mode_setting, p.current_climate_setting.cooling_set_point_celsius, p.current_climate_setting.fan_mode_setting],
      ['evening', 'heat_cool', 26, 'on'],
    )
    assert.equal(p.fan_mode_setting, 'on')
    // The active preset changed: the thermostat follows it.
    await seam.thermostats.updateClimatePreset({ device_id: ID, climate_preset_key: 'evening', cooling_set_point_celsius: 27 })
    assert.equal((await props(seam)).current_climate_setting.cooling_set_point_celsius, 27)
    const activated = await raw('/thermostats/activate_climate_preset', { device_id: ID, climate_preset_key: 'night' })
    assertResponseMatchesSchema('/thermostats/activate_climate_preset', activated.body)
    assert.equal(activated.body.action_attempt.action_type, 'ACTIVATE_CLIMATE_PRESET')
    await waitFor(async () => (await props(seam)).current_climate_setting.climate_preset_key === 'night', { what: 'the night preset' })

    // Deleting the fallback and active preset: no fallback, the settings stay as no preset's.
    const deleted = await raw('/thermostats/delete_climate_preset', { device_id: ID, climate_preset_key: 'night' }, 'DELETE')
    assert.equal(deleted.status, 200, deleted.text)
    assertResponseMatchesSchema('/thermostats/delete_climate_preset', deleted.body, 'delete')
    p = await props(seam)
    assert.equal(await presetOf(seam, 'night'), undefined)
    assert.equal(p.fallback_climate_preset_key, null)
    assert.equal(p.current_climate_setting.climate_preset_key, undefined)
    assert.deepEqual([p.current_climate_setting.hvac_mode_setting, p.current_climate_setting.heating_set_point_celsius], ['heat', 17])
    // A setting made by hand ends the active preset too.
    await seam.thermostats.activateClimatePreset({ device_id: ID, climate_preset_key: 'evening' })
    await seam.thermostats.heat({ device_id: ID, heating_set_point_celsius: 20 })
    assert.equal((await props(seam)).current_climate_setting.climate_preset_key, undefined)
    await seam.thermostats.deleteClimatePreset({ device_id: ID, climate_preset_key: 'evening' })
    assert.equal(await presetOf(seam, 'evening'), undefined)
    const device = await call(srv, '/devices/get', { token: SEED.apiKey1, body: { device_id: ID } })
    assertResponseMatchesSchema('/devices/get', device.body)
  })

  it('the thermostat records its events: manually_adjusted, climate_preset_activated', async () => {
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    const since = new Date().toISOString()
    await seam.thermostats.heat({ device_id: ID, heating_set_point_celsius: 19 })
    await seam.thermostats.createClimatePreset({ device_id: ID, climate_preset_key: 'events', hvac_mode_setting: 'cool', cooling_set_point_celsius: 25 })
    await seam.thermostats.activateClimatePreset({ device_id: ID, climate_preset_key: 'events' })
    const res = await call(srv, '/events/list', {
      token: SEED.apiKey1,
      body: { since, device_id: ID, event_types: ['thermostat.manually_adjusted', 'thermostat.climate_preset_activated'] },
    })
    assert.equal(res.status, 200, res.text)
    assertResponseMatchesSchema('/events/list', res.body)
    const [adjusted, activated] = res.body.events
    assert.equal(adjusted.event_type, 'thermostat.manually_adjusted')
    assert.deepEqual(
      [adjusted.method, adjusted.hvac_mode_setting, adjusted.heating_set_point_celsius, adjusted.heating_set_point_fahrenheit],
      ['seam', 'heat', 19, 66.2],
    )
    assert.equal(activated.event_type, 'thermostat.climate_preset_activated')
    assert.deepEqual([activated.climate_preset_key, activated.is_fallback_climate_preset], ['events', false])
    // John's client session sees them; another workspace's key does not.
    const johns = await call(srv, '/events/list', { token: SEED.cst1, body: { since, device_id: ID } })
    assert.ok(johns.body.events.some((e) => e.event_id === activated.event_id))
    const foreign = await call(srv, '/events/list', { token: SEED.apiKey2, body: { since } })
    assert.ok(!foreign.body.events.some((e) => e.device_id === ID))
    await seam.thermostats.deleteClimatePreset({ device_id: ID, climate_preset_key: 'events' })
  })

  it('unknown and duplicate keys, and presets that make no sense, are refused', async () => {
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    await seam.thermostats.createClimatePreset({ device_id: ID, climate_preset_key: 'taken', hvac_mode_setting: 'off' })
    for (const route of ['update_climate_preset', 'delete_climate_preset', 'set_fallback_climate_preset', 'activate_climate_preset']) {
      const res = await call(srv, `/thermostats/${route}`, { token: SEED.apiKey1, body: { device_id: ID, climate_preset_key: 'nope' } })
      assert.equal(res.status, 404, `${route}: ${res.text}`)
      assert.equal(res.body.error.type, 'climate_preset_not_found', route)
    }
    const dup = await call(srv, '/thermostats/create_climate_preset', { token: SEED.apiKey1, body: { device_id: ID, climate_preset_key: 'taken' } })
    assert.equal(dup.status, 400, dup.text)
    assert.equal(dup.body.error.type, 'climate_preset_key_already_exists')
    const base = { device_id: ID, climate_preset_key: 'odd' }
    for (const [route, body, key] of [
      ['create_climate_preset', { ...base, hvac_mode_setting: 'heat' }, 'heating_set_point_celsius'],
      ['create_climate_preset', { ...base, hvac_mode_setting: 'cool' }, 'cooling_set_point_celsius'],
      ['create_climate_preset', { ...base, heating_set_point_celsius: 30 }, 'heating_set_point_celsius'],
      ['create_climate_preset', { ...base, cooling_set_point_fahrenheit: 100 }, 'cooling_set_point_celsius'],
      ['create_climate_preset', { ...base, heating_set_point_celsius: 21, cooling_set_point_celsius: 22 }, 'heating_set_point_celsius'],
      ['create_climate_preset', { ...base, heating_set_point_celsius: 21, heating_set_point_fahrenheit: 70 }, 'heating_set_point_fahrenheit'],
      ['create_climate_preset', { ...base, hvac_mode_setting: 'turbo' }, 'hvac_mode_setting'],
      ['create_climate_preset', { ...base, fan_mode_setting: 'gale' }, 'fan_mode_setting'],
      ['create_climate_preset', { ...base, climate_preset_mode: 'party' }, 'climate_preset_mode'],
      ['create_climate_preset', { ...base, ecobee_metadata: { owner: 'nobody' } }, 'ecobee_metadata'],
      ['create_climate_preset', { device_id: ID }, 'climate_preset_key'],
      ['update_climate_preset', { device_id: ID, climate_preset_key: 'taken', hvac_mode_setting: 'heat_cool', heating_set_point_celsius: 20 }, 'cooling_set_point_celsius'],
      ['heat', { device_id: ID, heating_set_point_celsius: 30 }, 'heating_set_point_celsius'],
      ['cool', { device_id: ID, cooling_set_point_celsius: 15 }, 'cooling_set_point_celsius'],
    ]) {
      const res = await call(srv, `/thermostats/${route}`, { token: SEED.apiKey1, body })
      assert.equal(res.status, 400, `${route} ${JSON.stringify(body)}: ${res.text}`)
      assert.equal(res.body.error.type, 'invalid_input', res.text)
      assert.ok(res.body.error.validation_errors?.[key], `${route} ${JSON.stringify(body)} names ${key}: ${res.text}`)
    }
    assert.equal(await presetOf(seam, 'odd'), undefined, 'nothing refused was kept')
    await seam.thermostats.deleteClimatePreset({ device_id: ID, climate_preset_key: 'taken' })
  })

  it("no preset route on a lock, on another user's or another workspace's thermostat", async () => {
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    await seam.thermostats.createClimatePreset({ device_id: ID, climate_preset_key: 'shared', hvac_mode_setting: 'off' })
    const jane = await createSession(srv, SEED.apiKey1, { connected_account_ids: [SEED.janeAccount] })
    for (const [token, device_id] of [
      [SEED.apiKey1, 'august_device_1'],
      [SEED.apiKey2, ID],
      [jane.token, ID],
    ]) {
      for (const route of ['create_climate_preset', 'update_climate_preset', 'delete_climate_preset', 'set_fallback_climate_preset', 'activate_climate_preset']) {
        const key = route === 'create_climate_preset' ? 'intruder' : 'shared'
        const body = { device_id, climate_preset_key: key, ...(route === 'update_climate_preset' ? { name: 'x' } : {}) }
        const res = await call(srv, `/thermostats/${route}`, { token, body })
        assert.equal(res.status, 404, `${route} ${device_id}: ${res.text}`)
        assert.equal(res.body.error.type, 'device_not_found')
      }
    }
    const preset = await presetOf(seam, 'shared')
    assert.deepEqual([preset.name, await presetOf(seam, 'intruder')], [null, undefined], 'nothing changed')
    // The session that holds it may.
    const john = sdkFromToken(srv, SEED.cst1)
    await john.thermostats.updateClimatePreset({ device_id: ID, climate_preset_key: 'shared', name: 'Shared' })
    const attempt = await john.thermostats.activateClimatePreset({ device_id: ID, climate_preset_key: 'shared' })
    assert.equal(attempt.status, 'success')
    await john.thermostats.deleteClimatePreset({ device_id: ID, climate_preset_key: 'shared' })
    assert.equal(await presetOf(seam, 'shared'), undefined)
  })
})

describe('the temperature moves toward the set point', () => {
  // Two degrees a second: a tenth of a degree every 50 ms.
  const fast = useServer({ args: ['--climate-degrees-per-hour', '7200', '--action-delay-ms', '20'] })

  /** Polls until done(props) (each observation checked by each()), through a cached route. */
  async function watch(seam, each, done, what) {
    let last
    await waitFor(
      async () => {
        const [t] = (await seam.thermostats.list({ device_ids: [ID] })).filter((d) => d.device_id === ID)
        last = t.properties
        each(last)
        return done(last)
      },
      { ms: 60_000, every: 20, what },
    )
    return last
  }

  it('heats to the heating set point and cools to the cooling one, then rests; off stops it', async () => {
    const seam = sdkFromApiKey(fast, SEED.apiKey1)
    const start = (await seam.devices.get({ device_id: ID })).properties
    assert.equal(start.temperature_celsius, 21.5)
    await seam.thermostats.heat({ device_id: ID, heating_set_point_celsius: 24 })
    let seen = start.temperature_celsius
    let p = await watch(
      seam,
      (q) => {
        assert.ok(q.temperature_celsius >= seen && q.temperature_celsius <= 24, `heating: ${seen} then ${q.temperature_celsius}`)
        seen = q.temperature_celsius
        assert.equal(q.is_heating, q.temperature_celsius < 24, `is_heating at ${q.temperature_celsius}`)
        assert.equal(q.is_cooling, false)
        assert.equal(q.is_fan_running, q.is_heating)
        assert.equal(q.temperature_fahrenheit, Math.round((q.temperature_celsius * 9 / 5 + 32) * 10) / 10)
      },
      (q) => q.temperature_celsius === 24,
      'the temperature to reach 24 °C',
    )
    assert.deepEqual([p.is_heating, p.temperature_fahrenheit], [false, 75.2])

    await seam.thermostats.cool({ device_id: ID, cooling_set_point_celsius: 22.5 })
    seen = 24
    p = await watch(
      seam,
      (q) => {
        assert.ok(q.temperature_celsius <= seen && q.temperature_celsius >= 22.5, `cooling: ${seen} then ${q.temperature_celsius}`)
        seen = q.temperature_celsius
        assert.equal(q.is_cooling, q.temperature_celsius > 22.5, `is_cooling at ${q.temperature_celsius}`)
        assert.equal(q.is_heating, false)
      },
      (q) => q.temperature_celsius === 22.5,
      'the temperature to reach 22.5 °C',
    )
    assert.equal(p.is_cooling, false)

    // Off: it rests where it is, and stays there.
    await seam.thermostats.heat({ device_id: ID, heating_set_point_celsius: 26 })
    await seam.thermostats.off({ device_id: ID })
    const off = (await seam.devices.get({ device_id: ID })).properties
    assert.deepEqual([off.is_heating, off.is_cooling, off.is_fan_running], [false, false, false])
    await sleep(300) // six tenths' worth of time at this pace
    assert.equal((await seam.devices.get({ device_id: ID })).properties.temperature_celsius, off.temperature_celsius)
  })
})
