// thermostats/list through the SDK and thermostats/get (which the SDK
// version we use no longer has, still in the OpenAPI) raw: the thermostats in
// scope (the fixture's ecobee, and those of a sandbox ecobee login), never a
// lock; responses valid against the OpenAPI; 404 for a lock or another
// workspace's thermostat.
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
})
