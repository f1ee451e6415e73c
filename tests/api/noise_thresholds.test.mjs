// noise_sensors/noise_thresholds/* through the SDK and raw: the fixture's
// Minut sensor comes with fake-seam-connect's default threshold; create
// answers with the threshold and a CREATE_NOISE_THRESHOLD attempt (which
// succeeds), update and delete with theirs, the change visible at once;
// responses valid against the OpenAPI; bad times, levels and missing
// parameters refused; unknown thresholds and devices that are not noise
// sensors are 404; another user's client session and another workspace's
// API key see and change nothing; a deleted sensor's thresholds go with it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import {
  SEED,
  assertResponseMatchesSchema,
  call,
  createSession,
  isUuid,
  sdkFromApiKey,
  sdkFromToken,
  useServer,
} from './harness.mjs'
import { waitFor } from './webview_flow.mjs'

const srv = useServer({ args: ['--action-delay-ms', '20'] })
const SENSOR = 'minut_device_1'
const DEFAULT_ID = 'ab9c3f4e-8d2b-4c61-9e57-2f0a6d1b7c34'

const ak = (route, body, method) => call(srv, `/noise_sensors/noise_thresholds/${route}`, { token: SEED.apiKey1, method, body })

/** The attempt, once done. */
const finished = (id) =>
  waitFor(
    async () => {
      const { action_attempt: a } = (await call(srv, '/action_attempts/get', { token: SEED.apiKey1, body: { action_attempt_id: id } })).body
      return a.status !== 'pending' && a
    },
    { what: `action attempt ${id}` },
  )

describe('noise thresholds', () => {
  it("the fixture's sensor has the default threshold; list and get match the OpenAPI", async () => {
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    const listed = await seam.noiseSensors.noiseThresholds.list({ device_id: SENSOR })
    assert.deepEqual(listed, [
      {
        noise_threshold_id: DEFAULT_ID,
        device_id: SENSOR,
        name: 'builtin_normal_hours',
        noise_threshold_decibels: 60,
        starts_daily_at: '00:00:00[America/Los_Angeles]',
        ends_daily_at: '23:59:59[America/Los_Angeles]',
      },
    ])
    const one = await seam.noiseSensors.noiseThresholds.get({ noise_threshold_id: DEFAULT_ID })
    assert.deepEqual(one, listed[0])
    for (const [route, body] of [
      ['list', { device_id: SENSOR }],
      ['get', { noise_threshold_id: DEFAULT_ID }],
    ]) {
      for (const method of ['GET', 'POST']) {
        const res = await call(srv, `/noise_sensors/noise_thresholds/${route}`, {
          token: SEED.apiKey1,
          method,
          ...(method === 'GET' ? { query: body } : { body }),
        })
        assert.equal(res.status, 200, res.text)
        assertResponseMatchesSchema(`/noise_sensors/noise_thresholds/${route}`, res.body, method.toLowerCase())
      }
    }
    // Every threshold is on its sensor: none is waiting to be programmed.
    assert.deepEqual((await ak('list', { device_id: SENSOR, is_programmed: false })).body.noise_thresholds, [])
    assert.equal((await ak('list', { device_id: SENSOR, is_programmed: true })).body.noise_thresholds.length, 1)
  })

  it('create, update and delete: at once, each with an attempt that succeeds', async () => {
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    const created = await ak('create', {
      device_id: SENSOR,
      name: 'quiet hours',
      starts_daily_at: '22:00:00[America/Los_Angeles]',
      ends_daily_at: '06:00:00[America/Los_Angeles]',
      noise_threshold_decibels: 70,
    })
    assert.equal(created.status, 200, created.text)
    assertResponseMatchesSchema('/noise_sensors/noise_thresholds/create', created.body)
    const { noise_threshold: nt, action_attempt: attempt } = created.body
    assert.ok(isUuid(nt.noise_threshold_id))
    assert.deepEqual([attempt.action_type, attempt.status], ['CREATE_NOISE_THRESHOLD', 'pending'])
    assert.deepEqual(await seam.noiseSensors.noiseThresholds.get({ noise_threshold_id: nt.noise_threshold_id }), nt)
    assert.equal((await finished(attempt.action_attempt_id)).status, 'success')

    // Through the SDK (its create answers with the threshold), and with sync.
    const viaSdk = await seam.noiseSensors.noiseThresholds.create({
      device_id: SENSOR,
      starts_daily_at: '08:00:00',
      ends_daily_at: '20:00:00',
      noise_threshold_decibels: 80,
    })
    assert.deepEqual([viaSdk.name, viaSdk.noise_threshold_decibels], ['Noise threshold', 80])
    const synced = await ak('create', { device_id: SENSOR, starts_daily_at: '01:00:00', ends_daily_at: '02:00:00', noise_threshold_decibels: 50, sync: true })
    assert.equal(synced.body.action_attempt.status, 'success', synced.text)
    assertResponseMatchesSchema('/noise_sensors/noise_thresholds/create', synced.body)
    const ids = (await seam.noiseSensors.noiseThresholds.list({ device_id: SENSOR })).map((t) => t.noise_threshold_id)
    assert.deepEqual(ids, [DEFAULT_ID, nt.noise_threshold_id, viaSdk.noise_threshold_id, synced.body.noise_threshold.noise_threshold_id])

    const updated = await ak('update', { device_id: SENSOR, noise_threshold_id: nt.noise_threshold_id, noise_threshold_decibels: 65, ends_daily_at: '07:00:00' }, 'PATCH')
    assert.equal(updated.status, 200, updated.text)
    assertResponseMatchesSchema('/noise_sensors/noise_thresholds/update', updated.body, 'patch')
    assert.equal(updated.body.action_attempt.action_type, 'UPDATE_NOISE_THRESHOLD')
    assert.deepEqual(await seam.noiseSensors.noiseThresholds.get({ noise_threshold_id: nt.noise_threshold_id }), {
      ...nt,
      noise_threshold_decibels: 65,
      ends_daily_at: '07:00:00',
    })
    await seam.noiseSensors.noiseThresholds.update({ device_id: SENSOR, noise_threshold_id: nt.noise_threshold_id, name: 'night' })
    assert.equal((await seam.noiseSensors.noiseThresholds.get({ noise_threshold_id: nt.noise_threshold_id })).name, 'night')
    assert.equal((await finished(updated.body.action_attempt.action_attempt_id)).status, 'success')

    const deleted = await ak('delete', { device_id: SENSOR, noise_threshold_id: viaSdk.noise_threshold_id }, 'DELETE')
    assert.equal(deleted.status, 200, deleted.text)
    assertResponseMatchesSchema('/noise_sensors/noise_thresholds/delete', deleted.body, 'delete')
    assert.equal(deleted.body.action_attempt.action_type, 'DELETE_NOISE_THRESHOLD')
    await seam.noiseSensors.noiseThresholds.delete({ device_id: SENSOR, noise_threshold_id: synced.body.noise_threshold.noise_threshold_id })
    assert.deepEqual(
      (await seam.noiseSensors.noiseThresholds.list({ device_id: SENSOR })).map((t) => t.noise_threshold_id),
      [DEFAULT_ID, nt.noise_threshold_id],
    )
    assert.equal((await ak('get', { noise_threshold_id: viaSdk.noise_threshold_id })).status, 404)
    assert.equal((await finished(deleted.body.action_attempt.action_attempt_id)).status, 'success')
    await seam.noiseSensors.noiseThresholds.delete({ device_id: SENSOR, noise_threshold_id: nt.noise_threshold_id })
  })

  it('bad input is refused, naming each parameter; unknown thresholds and other devices are 404', async () => {
    const base = { device_id: SENSOR, starts_daily_at: '22:00:00', ends_daily_at: '06:00:00', noise_threshold_decibels: 70 }
    for (const [route, body, keys] of [
      ['create', { device_id: SENSOR }, ['starts_daily_at', 'ends_daily_at', 'noise_threshold_decibels']],
      ['create', { ...base, starts_daily_at: '24:00:00' }, ['starts_daily_at']],
      ['create', { ...base, ends_daily_at: '6:00:00' }, ['ends_daily_at']],
      ['create', { ...base, ends_daily_at: '06:00:00[Los Angeles]' }, ['ends_daily_at']],
      ['create', { ...base, starts_daily_at: '22:00:00[America/Los_Angeles' }, ['starts_daily_at']],
      ['create', { ...base, noise_threshold_decibels: -5 }, ['noise_threshold_decibels']],
      ['create', { ...base, noise_threshold_decibels: 'loud' }, ['noise_threshold_decibels']],
      ['create', { ...base, noise_threshold_nrs: 20 }, ['noise_threshold_nrs']], // a Minut has no NRS
      ['create', { ...base, colour: 'red' }, ['colour']],
      ['update', { device_id: SENSOR }, ['noise_threshold_id']],
      ['update', { device_id: SENSOR, noise_threshold_id: DEFAULT_ID, starts_daily_at: 'noon' }, ['starts_daily_at']],
      ['delete', { noise_threshold_id: DEFAULT_ID }, ['device_id']],
      ['list', {}, ['device_id']],
      ['get', {}, ['noise_threshold_id']],
    ]) {
      const res = await ak(route, body)
      assert.equal(res.status, 400, `${route} ${JSON.stringify(body)}: ${res.text}`)
      assert.equal(res.body.error.type, 'invalid_input')
      for (const key of keys) assert.ok(res.body.error.validation_errors?.[key], `${route} names ${key}: ${res.text}`)
    }
    const missing = '00000000-0000-4000-8000-000000000000'
    for (const [route, body, type] of [
      ['get', { noise_threshold_id: missing }, 'noise_threshold_not_found'],
      ['update', { device_id: SENSOR, noise_threshold_id: missing, name: 'x' }, 'noise_threshold_not_found'],
      ['delete', { device_id: SENSOR, noise_threshold_id: missing }, 'noise_threshold_not_found'],
      ['list', { device_id: 'ecobee_device_1' }, 'device_not_found'], // not a noise sensor
      ['create', { ...base, device_id: 'august_device_1' }, 'device_not_found'],
      ['delete', { device_id: 'ecobee_device_1', noise_threshold_id: DEFAULT_ID }, 'device_not_found'],
    ]) {
      const res = await ak(route, body)
      assert.equal(res.status, 404, `${route} ${JSON.stringify(body)}: ${res.text}`)
      assert.equal(res.body.error.type, type, res.text)
    }
    assert.equal((await ak('list', { device_id: SENSOR })).body.noise_thresholds.length, 1, 'nothing refused was kept')
  })

  it("another user's client session and another workspace's API key see and change nothing", async () => {
    const jane = await createSession(srv, SEED.apiKey1, { connected_account_ids: [SEED.janeAccount] })
    const attempts = [
      ['list', { device_id: SENSOR }, 'device_not_found'],
      ['get', { noise_threshold_id: DEFAULT_ID }, 'noise_threshold_not_found'],
      ['create', { device_id: SENSOR, starts_daily_at: '22:00:00', ends_daily_at: '06:00:00', noise_threshold_decibels: 1 }, 'device_not_found'],
      ['update', { device_id: SENSOR, noise_threshold_id: DEFAULT_ID, noise_threshold_decibels: 1 }, 'device_not_found'],
      ['delete', { device_id: SENSOR, noise_threshold_id: DEFAULT_ID }, 'device_not_found'],
    ]
    for (const token of [jane.token, SEED.apiKey2]) {
      for (const [route, body, type] of attempts) {
        const res = await call(srv, `/noise_sensors/noise_thresholds/${route}`, { token, body })
        assert.equal(res.status, 404, `${route}: ${res.text}`)
        assert.equal(res.body.error.type, type, res.text)
      }
    }
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    const [kept] = await seam.noiseSensors.noiseThresholds.list({ device_id: SENSOR })
    assert.deepEqual([kept.noise_threshold_id, kept.noise_threshold_decibels], [DEFAULT_ID, 60])
    // John's session holds the sensor: it may.
    const john = sdkFromToken(srv, SEED.cst1)
    const mine = await john.noiseSensors.noiseThresholds.create({ device_id: SENSOR, starts_daily_at: '12:00:00', ends_daily_at: '13:00:00', noise_threshold_decibels: 90 })
    assert.deepEqual(await john.noiseSensors.noiseThresholds.get({ noise_threshold_id: mine.noise_threshold_id }), mine)
    await john.noiseSensors.noiseThresholds.delete({ device_id: SENSOR, noise_threshold_id: mine.noise_threshold_id })
    assert.equal((await john.noiseSensors.noiseThresholds.list({ device_id: SENSOR })).length, 1)
  })

  it("a deleted sensor's thresholds go with it", async () => {
    const res = await call(srv, '/devices/delete', { token: SEED.apiKey1, body: { device_id: SENSOR } })
    assert.equal(res.status, 200, res.text)
    assert.equal((await ak('get', { noise_threshold_id: DEFAULT_ID })).body.error.type, 'noise_threshold_not_found')
  })
})
