// What devices/get and devices/list show beyond the properties a provider
// reported (api/derived_properties.c), which Seam Components read: every
// Celsius temperature also in Fahrenheit (to a tenth; a difference without
// the offset), a thermostat's available_hvac_mode_settings from its heating
// and cooling, a Minut sensor's noise level as minut_metadata's latest sound
// reading; what an action set stays as it set it; valid against the OpenAPI.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { SEED, assertResponseMatchesSchema, call, sdkFromApiKey, useServer } from './harness.mjs'
import { LOGINS, connectAccount } from './webview_flow.mjs'

const srv = useServer()

async function getDevice(device_id) {
  const res = await call(srv, '/devices/get', { token: SEED.apiKey1, body: { device_id } })
  assert.equal(res.status, 200, res.text)
  assertResponseMatchesSchema('/devices/get', res.body)
  return res.body.device
}

describe('derived device properties', () => {
  it("the fixture's thermostat: set points and delta in both units, its HVAC modes", async () => {
    const { properties: p } = await getDevice('ecobee_device_1')
    assert.deepEqual([...p.available_hvac_mode_settings].sort(), ['cool', 'heat', 'heat_cool', 'off'])
    assert.equal(p.min_heating_cooling_delta_celsius, 2.78)
    assert.equal(p.min_heating_cooling_delta_fahrenheit, 5, 'a difference: 2.78 °C is 5 °F')
    const s = p.current_climate_setting
    assert.deepEqual(
      [s.hvac_mode_setting, s.cooling_set_point_celsius, s.cooling_set_point_fahrenheit],
      ['cool', 24, 75.2],
    )
    assert.deepEqual([s.heating_set_point_celsius, s.heating_set_point_fahrenheit], [18, 64.4])
  })

  it('a sandbox thermostat: temperature in both units, both set points, fan mode', async () => {
    const { connected_account_id } = await connectAccount(srv, SEED.apiKey1, {
      provider: 'ecobee',
      username: LOGINS.john,
    })
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    const [thermostat] = await seam.devices.list({ connected_account_id })
    const { properties: p } = await getDevice(thermostat.device_id)
    assert.deepEqual([p.temperature_celsius, p.temperature_fahrenheit], [21.5, 70.7])
    assert.equal(p.min_heating_cooling_delta_fahrenheit, 5)
    assert.equal(p.fan_mode_setting, 'auto')
    assert.deepEqual(p.current_climate_setting, {
      hvac_mode_setting: 'heat',
      fan_mode_setting: 'auto',
      heating_set_point_celsius: 20,
      heating_set_point_fahrenheit: 68,
      cooling_set_point_celsius: 24,
      cooling_set_point_fahrenheit: 75.2,
      manual_override_allowed: true,
    })
    // What an action sets, in both units, stays as it set it.
    await seam.thermostats.cool({ device_id: thermostat.device_id, cooling_set_point_fahrenheit: 76.2 })
    const after = (await getDevice(thermostat.device_id)).properties.current_climate_setting
    assert.equal(after.hvac_mode_setting, 'cool')
    assert.equal(after.cooling_set_point_fahrenheit, 76.2)
    assert.ok(Math.abs(after.cooling_set_point_celsius - 24.5556) < 1e-3, after.cooling_set_point_celsius)
  })

  it('a Minut sensor: its noise level as the latest sound reading; locks get neither', async () => {
    const minut = await getDevice('minut_device_1')
    assert.equal(minut.properties.minut_metadata.latest_sensor_values.sound.value, minut.properties.noise_level_decibels)
    assert.equal(minut.properties.available_hvac_mode_settings, undefined)
    const lock = await getDevice('august_device_1')
    assert.equal(lock.properties.minut_metadata, undefined)
    assert.equal(lock.properties.available_hvac_mode_settings, undefined)
    const list = await call(srv, '/devices/list', { token: SEED.apiKey1, body: {} })
    assertResponseMatchesSchema('/devices/list', list.body)
    assert.deepEqual(
      list.body.devices.find((d) => d.device_id === 'ecobee_device_1').properties,
      (await getDevice('ecobee_device_1')).properties,
      'devices/list shows what devices/get shows',
    )
  })
})
