// thermostats/list through the SDK and thermostats/get (which the SDK
// version we use no longer has, still in the OpenAPI) raw: the thermostats in
// scope (the fixture's ecobee, and those of a sandbox ecobee login), never a
// lock; responses valid against the OpenAPI; 404 for a lock or another
// workspace's thermostat. The climate actions through the SDK (which waits
// for their action attempts): heat, cool, heat_cool, off, set_hvac_mode,
// set_fan_mode change current_climate_setting (set points in both units);
// set_temperature_threshold at once; bad set points refused; scope.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import {
  SEED,
  assertResponseMatchesSchema,
  call,
  createSession,
  sdkFromApiKey,
  sdkFromToken,
  useServer,
} from './harness.mjs'
import { LOGINS, connectAccount } from './webview_flow.mjs'

const srv = useServer()

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
