// Documented parameters that do what the OpenAPI says: events/get by
// device_id and/or event_type (the newest such event), events/list by
// event_ids and with unstable_offset, devices/list (and locks/list)
// include_if / exclude_if capability flags, customers (customer_key on
// connect webviews and connected accounts, and the lists it narrows),
// search on connected accounts and connect webviews, and the filters on
// resources latchkey does not have (ACS, access grants and methods,
// spaces, locations), which are accepted and match nothing. Scoped as ever.
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'

import { SEED, assertInvalidInput, call, sdkFromApiKey, sdkFromToken, useServer } from './harness.mjs'
import { LOGINS, connectAccount } from './webview_flow.mjs'

const srv = useServer({ args: ['--action-delay-ms', '0'] })
const SINCE = '2020-01-01T00:00:00Z'
let seam

describe('documented filters', () => {
  before(async () => {
    seam = sdkFromApiKey(srv, SEED.apiKey1)
    // Events of a device: an unlock then a lock.
    await seam.locks.unlockDoor({ device_id: 'august_device_1' })
    await seam.locks.lockDoor({ device_id: 'august_device_1' })
  })

  describe('events/get by device and type', () => {
    it('the newest event of the device (and of the type)', async () => {
      const all = await seam.events.list({ device_id: 'august_device_1', since: SINCE })
      assert.ok(all.length >= 4)
      const newest = await seam.events.get({ device_id: 'august_device_1' })
      assert.equal(newest.event_id, all.at(-1).event_id)
      const unlocked = await seam.events.get({ device_id: 'august_device_1', event_type: 'lock.unlocked' })
      assert.equal(unlocked.event_id, all.filter((e) => e.event_type === 'lock.unlocked').at(-1).event_id)
      const byType = await seam.events.get({ event_type: 'lock.locked' })
      assert.equal(byType.event_type, 'lock.locked')
    })

    it('not found when nothing matches, or out of scope; a name is needed', async () => {
      const none = await call(srv, '/events/get', {
        token: SEED.apiKey1,
        body: { device_id: 'august_device_1', event_type: 'device.removed' },
      })
      assert.equal(none.status, 404)
      const other = await call(srv, '/events/get', { token: SEED.apiKey2, body: { device_id: 'august_device_1' } })
      assert.equal(other.status, 404)
      assertInvalidInput(await call(srv, '/events/get', { token: SEED.apiKey1, body: {} }), 'event_id')
      assertInvalidInput(
        await call(srv, '/events/get', { token: SEED.apiKey1, body: { event_type: 'no.such' } }),
        'event_type',
      )
    })
  })

  describe('events/list', () => {
    it('event_ids and unstable_offset', async () => {
      const all = await seam.events.list({ since: SINCE })
      const ids = [all[2].event_id, all[0].event_id]
      const picked = await seam.events.list({ since: SINCE, event_ids: ids })
      assert.deepEqual(picked.map((e) => e.event_id), [all[0].event_id, all[2].event_id])
      const skipped = await seam.events.list({ since: SINCE, unstable_offset: 2 })
      assert.deepEqual(skipped.map((e) => e.event_id), all.slice(2).map((e) => e.event_id))
    })

    it('filters on what latchkey does not have are accepted and match nothing', async () => {
      for (const body of [
        { acs_system_id: 'x' },
        { acs_system_ids: ['x'] },
        { access_grant_id: 'x' },
        { access_method_ids: ['x'] },
        { space_id: 'x' },
        { user_identity_id: 'x' },
        { access_code_id: 'x' },
      ]) {
        const res = await call(srv, '/events/list', { token: SEED.apiKey1, body: { since: SINCE, ...body } })
        assert.equal(res.status, 200, `${JSON.stringify(body)}: ${res.text}`)
        assert.deepEqual(res.body.events, [], JSON.stringify(body))
      }
      assertInvalidInput(
        await call(srv, '/events/list', { token: SEED.apiKey1, body: { since: SINCE, space_id: 5 } }),
        'space_id',
      )
    })
  })

  describe('devices/list include_if and exclude_if', () => {
    it('keep or drop devices by capability flag', async () => {
      const all = await seam.devices.list()
      const locks = await seam.devices.list({ include_if: ['can_remotely_unlock'] })
      assert.deepEqual(
        locks.map((d) => d.device_id).sort(),
        all.filter((d) => d.can_remotely_unlock).map((d) => d.device_id).sort(),
      )
      assert.ok(locks.length > 0 && locks.length < all.length)
      const others = await seam.devices.list({ exclude_if: ['can_remotely_unlock'] })
      assert.equal(others.length + locks.length, all.length)
      assert.deepEqual(await seam.devices.list({ include_if: ['can_hvac_heat_cool'] }), [])
      assertInvalidInput(
        await call(srv, '/devices/list', { token: SEED.apiKey1, body: { include_if: ['can_fly'] } }),
        'include_if',
      )
    })

    it('a client session sees only its own, whatever the flags', async () => {
      const mine = await sdkFromToken(srv, SEED.cst1).locks.list({ include_if: ['can_remotely_lock'] })
      const all = await sdkFromToken(srv, SEED.cst1).locks.list()
      assert.deepEqual(mine.map((d) => d.device_id).sort(), all.map((d) => d.device_id).sort())
    })

    it('space_id and unstable_location_id match nothing', async () => {
      assert.deepEqual(await seam.devices.list({ space_id: 'x' }), [])
      const res = await call(srv, '/locks/list', { token: SEED.apiKey1, body: { unstable_location_id: 'x' } })
      assert.equal(res.status, 200)
      assert.deepEqual(res.body.devices, [])
    })
  })

  describe('customers', () => {
    it('a webview for a customer gives the account to it; lists narrow to the customer', async () => {
      const { connected_account_id: id, connect_webview_id: wv } = await connectAccount(srv, SEED.apiKey1, {
        provider: 'yale',
        username: LOGINS.john,
        create: { customer_key: 'customer_a' },
      })
      const account = await seam.connectedAccounts.get({ connected_account_id: id })
      assert.equal(account.customer_key, 'customer_a')
      assert.equal((await seam.connectWebviews.get({ connect_webview_id: wv })).customer_key, 'customer_a')
      const accounts = await seam.connectedAccounts.list({ customer_key: 'customer_a' })
      assert.deepEqual(accounts.map((a) => a.connected_account_id), [id])
      const devices = await seam.devices.list({ customer_key: 'customer_a' })
      assert.equal(devices.length, 3)
      assert.ok(devices.every((d) => d.connected_account_id === id))
      assert.deepEqual(
        (await seam.locks.list({ customer_key: 'customer_a' })).map((d) => d.device_id).sort(),
        devices.map((d) => d.device_id).sort(),
      )
      const events = await seam.events.list({ since: SINCE, customer_key: 'customer_a' })
      assert.ok(events.length > 0 && events.every((e) => e.connected_account_id === id))
      assert.deepEqual(
        (await seam.connectWebviews.list({ customer_key: 'customer_a' })).map((w) => w.connect_webview_id),
        [wv],
      )
      assert.deepEqual(await seam.devices.list({ customer_key: 'customer_b' }), [])
      // Another workspace's key sees nothing of the customer.
      const other = await call(srv, '/devices/list', { token: SEED.apiKey2, body: { customer_key: 'customer_a' } })
      assert.deepEqual(other.body.devices, [])
    })

    it('an account belongs to one customer: update sets it once; another customer\'s webview fails', async () => {
      const { connected_account_id: id } = await connectAccount(srv, SEED.apiKey1, {
        provider: 'schlage',
        username: LOGINS.jane,
      })
      await seam.connectedAccounts.update({ connected_account_id: id, customer_key: 'customer_c' })
      assert.equal((await seam.connectedAccounts.get({ connected_account_id: id })).customer_key, 'customer_c')
      assertInvalidInput(
        await call(srv, '/connected_accounts/update', {
          token: SEED.apiKey1,
          body: { connected_account_id: id, customer_key: 'customer_d' },
        }),
        'customer_key',
      )
      const created = await seam.connectWebviews.create({ accepted_providers: ['schlage'], customer_key: 'customer_d' })
      const { completeWebview } = await import('./webview_flow.mjs')
      await completeWebview(created.url, { provider: 'schlage', username: LOGINS.jane })
      const after = await seam.connectWebviews.get({ connect_webview_id: created.connect_webview_id })
      assert.equal(after.status, 'failed')
      assert.equal((await seam.connectedAccounts.get({ connected_account_id: id })).customer_key, 'customer_c')
    })
  })

  describe('search', () => {
    it('connected accounts and connect webviews by a part of their fields', async () => {
      const found = await seam.connectedAccounts.list({ search: 'JOHN@EXAMPLE' })
      assert.ok(found.length > 0 && found.every((a) => a.user_identifier?.email === 'john@example.com'))
      assert.deepEqual(await seam.connectedAccounts.list({ search: 'no-such-thing' }), [])
      const webviews = await seam.connectWebviews.list({ search: 'customer_a' })
      assert.ok(webviews.length === 1 && webviews[0].customer_key === 'customer_a')
      const byProvider = await seam.connectWebviews.list({ search: 'schlage' })
      assert.ok(byProvider.length >= 2 && byProvider.every((w) => w.accepted_providers.includes('schlage')))
    })

    it('space_id on connected_accounts/list matches nothing', async () => {
      assert.deepEqual(await seam.connectedAccounts.list({ space_id: 'x' }), [])
    })
  })

  describe('connect webview providers', () => {
    it('provider_category narrows and excluded_providers removes', async () => {
      const thermostats = await seam.connectWebviews.create({ provider_category: 'thermostats' })
      assert.deepEqual(thermostats.accepted_providers, ['ecobee'])
      const locks = await seam.connectWebviews.create({
        provider_category: 'consumer_smartlocks',
        excluded_providers: ['nuki', 'yale'],
      })
      assert.deepEqual(locks.accepted_providers, ['august', 'schlage'])
      const both = await seam.connectWebviews.create({
        accepted_providers: ['august', 'ecobee', 'zigbee2mqtt'],
        excluded_providers: ['august'],
      })
      assert.deepEqual(both.accepted_providers, ['ecobee', 'zigbee2mqtt'])
      for (const body of [
        { provider_category: 'cameras' },
        { accepted_providers: ['august'], excluded_providers: ['august'] },
      ]) {
        const res = await call(srv, '/connect_webviews/create', { token: SEED.apiKey1, body })
        assert.equal(res.status, 400, JSON.stringify(body))
      }
      assertInvalidInput(
        await call(srv, '/connect_webviews/create', { token: SEED.apiKey1, body: { excluded_providers: ['acme'] } }),
        'excluded_providers',
      )
    })
  })

  describe('user identities and access systems latchkey does not have', () => {
    it('acs_system_ids names a system that does not exist; credential_manager_acs_system_id matches nothing', async () => {
      const res = await call(srv, '/user_identities/create', {
        token: SEED.apiKey1,
        body: { user_identity_key: 'with_acs', acs_system_ids: ['00000000-0000-4000-8000-000000000001'] },
      })
      assert.equal(res.status, 404)
      assert.equal(res.body.error.type, 'acs_system_not_found')
      const ok = await seam.userIdentities.create({ user_identity_key: 'without_acs', acs_system_ids: [] })
      assert.equal(ok.user_identity_key, 'without_acs')
      assert.ok((await seam.userIdentities.list()).length > 0)
      assert.deepEqual(
        await seam.userIdentities.list({ credential_manager_acs_system_id: '00000000-0000-4000-8000-000000000001' }),
        [],
      )
    })
  })

  describe('devices/update properties.name', () => {
    it('names the device as name does; null gives the provider name back', async () => {
      await seam.devices.update({ device_id: 'august_device_2', properties: { name: 'Side door' } })
      let d = await seam.devices.get({ device_id: 'august_device_2' })
      assert.equal(d.display_name, 'Side door')
      await seam.devices.update({ device_id: 'august_device_2', properties: { name: null } })
      d = await seam.devices.get({ device_id: 'august_device_2' })
      assert.notEqual(d.display_name, 'Side door')
      for (const properties of [{ name: 5 }, { color: 'red' }]) {
        assertInvalidInput(
          await call(srv, '/devices/update', { token: SEED.apiKey1, body: { device_id: 'august_device_2', properties } }),
          'properties',
        )
      }
      const out = await call(srv, '/devices/update', {
        token: SEED.apiKey2,
        body: { device_id: 'august_device_2', properties: { name: 'x' } },
      })
      assert.equal(out.status, 404, 'another workspace cannot rename it')
    })
  })

  describe('custom_metadata with null values on connect_webviews/create', () => {
    it('is accepted, as Seam Components send it; a null key is not set', async () => {
      const wv = await seam.connectWebviews.create({
        accepted_providers: ['august'],
        custom_metadata: { client_session_id: null, user_identifier_key: null, app: 'x' },
      })
      assert.deepEqual(wv.custom_metadata, { app: 'x' })
      const got = await seam.connectWebviews.get({ connect_webview_id: wv.connect_webview_id })
      assert.deepEqual(got.custom_metadata, { app: 'x' })
    })
  })

  describe('accepted_capabilities', () => {
    it('restricts a webview to the providers of those devices; the account keeps them', async () => {
      const t = await seam.connectWebviews.create({ accepted_capabilities: ['thermostat'] })
      assert.deepEqual(t.accepted_providers, ['ecobee'])
      assert.deepEqual(t.accepted_capabilities, ['thermostat'])
      const plain = await seam.connectWebviews.create({ accepted_providers: ['august'] })
      assert.deepEqual(plain.accepted_capabilities, ['lock'], 'by default those of its providers')
      const res = await call(srv, '/connect_webviews/create', {
        token: SEED.apiKey1,
        body: { accepted_providers: ['august'], accepted_capabilities: ['thermostat'] },
      })
      assert.equal(res.status, 400, 'no provider left')
      assertInvalidInput(
        await call(srv, '/connect_webviews/create', { token: SEED.apiKey1, body: { accepted_capabilities: ['teleport'] } }),
        'accepted_capabilities',
      )
      const { connected_account_id: id } = await connectAccount(srv, SEED.apiKey1, {
        provider: 'nuki',
        username: LOGINS.john,
        create: { accepted_capabilities: ['lock', 'noise_sensor'] },
      })
      let account = await seam.connectedAccounts.get({ connected_account_id: id })
      assert.deepEqual(account.accepted_capabilities, ['lock', 'noise_sensor'])
      await seam.connectedAccounts.update({ connected_account_id: id, accepted_capabilities: ['lock'] })
      account = await seam.connectedAccounts.get({ connected_account_id: id })
      assert.deepEqual(account.accepted_capabilities, ['lock'])
      await seam.connectedAccounts.update({ connected_account_id: id, automatically_manage_new_devices: true })
      assertInvalidInput(
        await call(srv, '/connected_accounts/update', {
          token: SEED.apiKey1,
          body: { connected_account_id: id, automatically_manage_new_devices: false },
        }),
        'automatically_manage_new_devices',
      )
    })
  })
})
