// devices/update (name, custom_metadata), devices/delete,
// devices/list_device_providers, and the devices/list filters
// connect_webview_id, created_before, search and custom_metadata_has,
// combined with each other and with pagination.
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'

import {
  SEED,
  assertError,
  assertInvalidInput,
  assertResponseMatchesSchema,
  assertOk,
  call,
  deviceIds,
  sdkFromApiKey,
  sdkFromToken,
  sdkRejects,
  sleep,
  useServer,
  uniqueKey,
} from './harness.mjs'
import { LOGINS, connectAccount, newSandboxWorkspace } from './webview_flow.mjs'

const srv = useServer({ args: ['--action-delay-ms', '100'] })

const AK = SEED.apiKey1

async function getDeviceRaw(id, token = AK) {
  return call(srv, '/devices/get', { method: 'GET', token, query: { device_id: id } })
}

async function getDevice(id, token = AK) {
  const out = assertOk(await getDeviceRaw(id, token), 'device')
  assertResponseMatchesSchema('/devices/get', out, 'get')
  return out.device
}

async function listPage(query, token = AK) {
  const out = assertOk(await call(srv, '/devices/list', { method: 'GET', token, query }), 'devices')
  assertResponseMatchesSchema('/devices/list', out, 'get')
  return out
}

async function listIds(query, token = AK) {
  return deviceIds(await listPage(query, token))
}

async function listIdsPost(body, token = AK) {
  const out = assertOk(await call(srv, '/devices/list', { token, body }), 'devices')
  assertResponseMatchesSchema('/devices/list', out)
  return deviceIds(out)
}

async function update(body, token = AK) {
  const res = await call(srv, '/devices/update', { token, body })
  assertResponseMatchesSchema('/devices/update', assertOk(res))
}

/** Walks every page with `limit`, returning the ids in order and the page count. */
async function walk(query, limit, token = AK) {
  const seen = []
  let cursor
  let pages = 0
  for (;;) {
    const out = await listPage({ ...query, limit, ...(cursor ? { page_cursor: cursor } : {}) }, token)
    pages++
    assert.ok(out.devices.length <= limit)
    seen.push(...deviceIds(out))
    if (!out.pagination.has_next_page) break
    cursor = out.pagination.next_page_cursor
    assert.ok(pages < 50, 'too many pages')
  }
  return { seen, pages }
}

describe('devices/update', () => {
  it('name sets the display name (nickname); the provider name stays', async () => {
    const before = await getDevice('august_device_1')
    await update({ device_id: 'august_device_1', name: 'Main Entrance' })
    const after = await getDevice('august_device_1')
    assert.equal(after.display_name, 'Main Entrance')
    assert.equal(after.properties.name, before.properties.name)
    assert.equal(after.device_id, before.device_id)
    // Found by its new name.
    const byName = assertOk(
      await call(srv, '/devices/get', { method: 'GET', token: AK, query: { name: 'Main Entrance' } }),
    ).device
    assert.equal(byName.device_id, 'august_device_1')
    await update({ device_id: 'august_device_1', name: 'Front Door' })
    assert.equal((await getDevice('august_device_1')).display_name, 'Front Door')
  })

  it('custom_metadata is stored and returned', async () => {
    await update({ device_id: 'august_device_2', custom_metadata: { unit: '12B', has_pet: true } })
    const d = await getDevice('august_device_2')
    assert.equal(d.custom_metadata.unit, '12B')
    assert.equal(d.custom_metadata.has_pet, true)
    await update({ device_id: 'august_device_2', custom_metadata: { unit: '14C' } })
    assert.equal((await getDevice('august_device_2')).custom_metadata.unit, '14C')
  })

  it('name: null takes the name off again (or is refused), never silently ignored', async () => {
    await update({ device_id: 'minut_device_1', name: 'Temporary Name' })
    const res = await call(srv, '/devices/update', { token: AK, body: { device_id: 'minut_device_1', name: null } })
    const d = await getDevice('minut_device_1')
    if (res.status === 200) {
      assert.equal(d.display_name, d.properties.name, 'display_name falls back to the provider name')
      assert.equal(d.nickname ?? null, null)
    } else {
      assertInvalidInput(res, 'name')
      assert.equal(d.display_name, 'Temporary Name')
    }
  })

  it('custom_metadata merges key by key; null removes a key', async () => {
    await update({ device_id: 'ecobee_device_1', custom_metadata: { keep: 'yes', drop: 'soon' } })
    await update({ device_id: 'ecobee_device_1', custom_metadata: { drop: null, more: true } })
    const md = (await getDevice('ecobee_device_1')).custom_metadata
    assert.equal(md.keep, 'yes')
    assert.equal(md.more, true)
    assert.ok(!('drop' in md), JSON.stringify(md))
  })

  it('PATCH and the SDK work as POST does', async () => {
    assertOk(
      await call(srv, '/devices/update', {
        method: 'PATCH',
        token: AK,
        body: { device_id: 'minut_device_1', name: 'Hallway Sensor' },
      }),
    )
    assert.equal((await getDevice('minut_device_1')).display_name, 'Hallway Sensor')
    await sdkFromApiKey(srv, AK).devices.update({ device_id: 'minut_device_1', name: 'Hall Sensor' })
    assert.equal((await getDevice('minut_device_1')).display_name, 'Hall Sensor')
  })

  it('a client session token updates its own device', async () => {
    await sdkFromToken(srv, SEED.cst1).devices.update({
      device_id: 'ecobee_device_1',
      name: 'Living Room Thermostat',
      custom_metadata: { room: 'living' },
    })
    const d = await getDevice('ecobee_device_1', SEED.cst1)
    assert.equal(d.display_name, 'Living Room Thermostat')
    assert.equal(d.custom_metadata.room, 'living')
  })

  it('outside the scope (token or other workspace) or unknown: 404, nothing changes', async () => {
    const before = await getDevice('schlage_device_id')
    for (const [token, id] of [
      [SEED.cst1, 'schlage_device_id'],
      [SEED.apiKey2, 'schlage_device_id'],
      [AK, 'no_such_device'],
    ]) {
      assertError(
        await call(srv, '/devices/update', {
          token,
          body: { device_id: id, name: 'Pwned', custom_metadata: { pwned: true } },
        }),
        404,
        'device_not_found',
      )
    }
    await sdkRejects(
      sdkFromToken(srv, SEED.cst1).devices.update({ device_id: 'schlage_device_id', name: 'Pwned' }),
      404,
    )
    assert.deepEqual(await getDevice('schlage_device_id'), before)
  })

  it('bad parameters are invalid_input naming them', async () => {
    assertInvalidInput(await call(srv, '/devices/update', { token: AK, body: { name: 'x' } }), 'device_id')
    assertInvalidInput(
      await call(srv, '/devices/update', { token: AK, body: { device_id: 'august_device_1', name: 42 } }),
      'name',
    )
    assertInvalidInput(
      await call(srv, '/devices/update', {
        token: AK,
        body: { device_id: 'august_device_1', custom_metadata: ['not', 'an', 'object'] },
      }),
      'custom_metadata',
    )
  })
})

describe('devices/delete', () => {
  it('API key: the device is gone from get, list and every session', async () => {
    const ws = await newSandboxWorkspace(srv, 'Delete device')
    const session = assertOk(
      await call(srv, '/client_sessions/create', { token: ws.apiKey, body: { user_identifier_key: uniqueKey('dd') } }),
    ).client_session
    await connectAccount(srv, session.token, { provider: 'august', username: LOGINS.john })
    const ids = await listIds({}, ws.apiKey)
    assert.equal(ids.length, 3)
    const [gone, ...kept] = ids
    const res = await call(srv, '/devices/delete', { token: ws.apiKey, body: { device_id: gone } })
    assertResponseMatchesSchema('/devices/delete', assertOk(res))
    assertError(await getDeviceRaw(gone, ws.apiKey), 404, 'device_not_found')
    assertError(await getDeviceRaw(gone, session.token), 404, 'device_not_found')
    assert.deepEqual(await listIds({}, ws.apiKey), kept)
    assert.deepEqual(await listIds({}, session.token), kept)
    const s = assertOk(
      await call(srv, '/client_sessions/get', { method: 'GET', token: session.token }),
    ).client_session
    assert.equal(s.device_count, 2)
    // Acting on it: 404.
    assertError(await call(srv, '/locks/unlock_door', { token: ws.apiKey, body: { device_id: gone } }), 404)
    // Deleting again: 404.
    assertError(await call(srv, '/devices/delete', { token: ws.apiKey, body: { device_id: gone } }), 404, 'device_not_found')
  })

  it('DELETE with the id in the query', async () => {
    const ws = await newSandboxWorkspace(srv, 'Delete device query')
    await connectAccount(srv, ws.apiKey, { provider: 'yale', username: LOGINS.jane })
    const [gone, kept] = await listIds({}, ws.apiKey)
    assertOk(await call(srv, '/devices/delete', { method: 'DELETE', token: ws.apiKey, query: { device_id: gone } }))
    assert.deepEqual(await listIds({}, ws.apiKey), [kept])
  })

  it('a client session token may not delete (403); another workspace gets 404; nothing changes', async () => {
    const before = await getDevice('august_device_2')
    assertError(await call(srv, '/devices/delete', { token: SEED.cst1, body: { device_id: 'august_device_2' } }), 403)
    assertError(
      await call(srv, '/devices/delete', { token: SEED.apiKey2, body: { device_id: 'august_device_2' } }),
      404,
      'device_not_found',
    )
    assert.deepEqual(await getDevice('august_device_2'), before)
    assert.ok((await listIds({}, SEED.cst1)).includes('august_device_2'))
  })
})

describe('devices/list_device_providers', () => {
  it('lists the sandbox providers; allowed with a token; matches the schema', async () => {
    for (const token of [AK, SEED.cst1]) {
      const out = assertOk(
        await call(srv, '/devices/list_device_providers', { method: 'GET', token }),
        'device_providers',
      )
      assertResponseMatchesSchema('/devices/list_device_providers', out, 'get')
      const names = out.device_providers.map((p) => p.device_provider_name)
      for (const p of ['august', 'schlage', 'yale', 'nuki', 'ecobee']) assert.ok(names.includes(p), p)
      for (const p of out.device_providers) {
        assert.equal(typeof p.display_name, 'string')
        assert.ok(p.display_name.length > 0)
        assert.ok(Array.isArray(p.provider_categories))
        // A self-contained image: nothing the server would have to serve.
        assert.match(p.image_url, /^data:image\/svg\+xml,%3Csvg .*%3C\/svg%3E$/)
        assert.ok(decodeURIComponent(p.image_url).includes(`>${p.display_name[0].toUpperCase()}</text>`))
      }
    }
  })

  it('provider_category narrows (thermostats: ecobee, not august)', async () => {
    const res = await call(srv, '/devices/list_device_providers', {
      token: AK,
      body: { provider_category: 'thermostats' },
    })
    const names = assertOk(res).device_providers.map((p) => p.device_provider_name)
    assert.ok(names.includes('ecobee'))
    assert.ok(!names.includes('august'))
    const viaSdk = await sdkFromApiKey(srv, AK).devices.listDeviceProviders({ provider_category: 'consumer_smartlocks' })
    const lockNames = viaSdk.map((p) => p.device_provider_name)
    assert.ok(lockNames.includes('august') && lockNames.includes('nuki'))
    assert.ok(!lockNames.includes('ecobee'))
    assertInvalidInput(
      await call(srv, '/devices/list_device_providers', { token: AK, body: { provider_category: 'toasters' } }),
      'provider_category',
    )
  })
})

describe('devices/list: more filters, combined with pagination', () => {
  let ws
  let wvA
  let wvB
  let aDevices
  let bDevices
  let cutoff
  before(async () => {
    ws = await newSandboxWorkspace(srv, 'List filters')
    wvA = await connectAccount(srv, ws.apiKey, { provider: 'august', username: LOGINS.john })
    aDevices = await listIds({ connected_account_id: wvA.connected_account_id }, ws.apiKey)
    await sleep(50)
    cutoff = new Date().toISOString()
    await sleep(50)
    wvB = await connectAccount(srv, ws.apiKey, { provider: 'schlage', username: LOGINS.jane })
    bDevices = await listIds({ connected_account_id: wvB.connected_account_id }, ws.apiKey)
    assert.equal(aDevices.length, 3)
    assert.equal(bDevices.length, 2)
    const seam = sdkFromApiKey(srv, ws.apiKey)
    await seam.devices.update({ device_id: aDevices[0], name: 'Zephyr Gate', custom_metadata: { zone: 'north', pool: true } })
    await seam.devices.update({ device_id: aDevices[1], name: 'Zenith Gate', custom_metadata: { zone: 'north' } })
    await seam.devices.update({ device_id: bDevices[0], name: 'Zephyr Side Door', custom_metadata: { zone: 'south', pool: true } })
  })

  it('connect_webview_id: the devices of the account that webview connected', async () => {
    assert.deepEqual((await listIds({ connect_webview_id: wvA.connect_webview_id }, ws.apiKey)).sort(), [...aDevices].sort())
    assert.deepEqual((await listIdsPost({ connect_webview_id: wvB.connect_webview_id }, ws.apiKey)).sort(), [...bDevices].sort())
    const seam = sdkFromApiKey(srv, ws.apiKey)
    const viaSdk = await seam.devices.list({ connect_webview_id: wvB.connect_webview_id })
    assert.deepEqual(viaSdk.map((d) => d.device_id).sort(), [...bDevices].sort())
    // A webview of another workspace: nothing.
    assert.deepEqual(await listIds({ connect_webview_id: SEED.webview1 }, ws.apiKey), [])
  })

  it('created_before: only devices created before the time', async () => {
    assert.deepEqual((await listIds({ created_before: cutoff }, ws.apiKey)).sort(), [...aDevices].sort())
    assert.deepEqual(await listIds({ created_before: '2000-01-01T00:00:00.000Z' }, ws.apiKey), [])
    const future = new Date(Date.now() + 3_600_000).toISOString()
    assert.equal((await listIds({ created_before: future }, ws.apiKey)).length, 5)
    assertInvalidInput(
      await call(srv, '/devices/list', { method: 'GET', token: ws.apiKey, query: { created_before: 'yesterday-ish' } }),
      'created_before',
    )
  })

  it('search: a part of the display name', async () => {
    assert.deepEqual(
      (await listIds({ search: 'Zephyr' }, ws.apiKey)).sort(),
      [aDevices[0], bDevices[0]].sort(),
    )
    assert.deepEqual(await listIds({ search: 'Zenith' }, ws.apiKey), [aDevices[1]])
    assert.deepEqual(await listIds({ search: 'Nothing Like This' }, ws.apiKey), [])
  })

  it('custom_metadata_has: every given pair must match (body, raw GET keys, SDK)', async () => {
    assert.deepEqual(
      (await listIdsPost({ custom_metadata_has: { zone: 'north' } }, ws.apiKey)).sort(),
      [aDevices[0], aDevices[1]].sort(),
    )
    assert.deepEqual(
      (await listIdsPost({ custom_metadata_has: { pool: true } }, ws.apiKey)).sort(),
      [aDevices[0], bDevices[0]].sort(),
    )
    assert.deepEqual(await listIdsPost({ custom_metadata_has: { zone: 'north', pool: true } }, ws.apiKey), [aDevices[0]])
    assert.deepEqual(await listIdsPost({ custom_metadata_has: { zone: 'east' } }, ws.apiKey), [])
    assert.deepEqual(
      await listIds('custom_metadata_has.zone=south', ws.apiKey),
      [bDevices[0]],
    )
    const viaSdk = await sdkFromApiKey(srv, ws.apiKey).devices.list({
      custom_metadata_has: { zone: 'north', pool: true },
    })
    assert.deepEqual(
      viaSdk.map((d) => d.device_id),
      [aDevices[0]],
    )
  })

  it('the filters combine with each other', async () => {
    assert.deepEqual(
      await listIdsPost({ search: 'Zephyr', custom_metadata_has: { zone: 'south' } }, ws.apiKey),
      [bDevices[0]],
    )
    assert.deepEqual(
      await listIdsPost({ search: 'Zephyr', connect_webview_id: wvA.connect_webview_id }, ws.apiKey),
      [aDevices[0]],
    )
    assert.deepEqual(
      await listIdsPost({ created_before: cutoff, custom_metadata_has: { pool: true } }, ws.apiKey),
      [aDevices[0]],
    )
    assert.deepEqual(
      await listIdsPost({ device_type: 'schlage_lock', custom_metadata_has: { pool: true } }, ws.apiKey),
      [bDevices[0]],
    )
  })

  it('the filters combine with pagination (limit 1 walks the same set)', async () => {
    for (const query of [
      { connect_webview_id: wvA.connect_webview_id },
      { created_before: cutoff },
      { search: 'Zephyr' },
      { 'custom_metadata_has.zone': 'north' },
      { search: 'Ze', device_types: ['august_lock', 'schlage_lock'] },
    ]) {
      const all = await listIds(query, ws.apiKey)
      const { seen, pages } = await walk(query, 1, ws.apiKey)
      assert.deepEqual(seen, all, JSON.stringify(query))
      assert.equal(pages, Math.max(all.length, 1))
    }
    // A cursor replayed with a different filter is rejected.
    const p1 = await listPage({ search: 'Ze', limit: 1 }, ws.apiKey)
    assertInvalidInput(
      await call(srv, '/devices/list', {
        method: 'GET',
        token: ws.apiKey,
        query: { search: 'Zephyr', limit: 1, page_cursor: p1.pagination.next_page_cursor },
      }),
      'page_cursor',
    )
    const p2 = await listPage({ 'custom_metadata_has.zone': 'north', limit: 1 }, ws.apiKey)
    assertInvalidInput(
      await call(srv, '/devices/list', {
        method: 'GET',
        token: ws.apiKey,
        query: { 'custom_metadata_has.zone': 'south', limit: 1, page_cursor: p2.pagination.next_page_cursor },
      }),
      'page_cursor',
    )
    // The SDK paginator with filters.
    const seam = sdkFromApiKey(srv, ws.apiKey)
    const flat = await seam
      .createPaginator(seam.devices.list({ limit: 1, created_before: cutoff }))
      .flattenToArray()
    assert.deepEqual(flat.map((d) => d.device_id).sort(), [...aDevices].sort())
  })

  it('with a client session token the filters stay inside its scope', async () => {
    const session = assertOk(
      await call(srv, '/client_sessions/create', {
        token: ws.apiKey,
        body: { user_identifier_key: uniqueKey('scoped'), connect_webview_ids: [wvA.connect_webview_id] },
      }),
    ).client_session
    assert.deepEqual((await listIds({}, session.token)).sort(), [...aDevices].sort())
    assert.deepEqual(await listIds({ connect_webview_id: wvB.connect_webview_id }, session.token), [])
    assert.deepEqual(await listIds({ search: 'Zephyr' }, session.token), [aDevices[0]])
    assert.deepEqual(await listIdsPost({ custom_metadata_has: { pool: true } }, session.token), [aDevices[0]])
    const { seen } = await walk({ search: 'Ze' }, 1, session.token)
    assert.deepEqual(seen.sort(), [aDevices[0], aDevices[1]].sort())
  })
})

describe('devices of every sandbox provider', () => {
  it('device_type, manufacturer and locks/list know every provider', async () => {
    const ws = await newSandboxWorkspace(srv, 'Every provider')
    const byProvider = {}
    for (const provider of ['august', 'schlage', 'yale', 'nuki', 'ecobee']) {
      const { connected_account_id } = await connectAccount(srv, ws.apiKey, { provider, username: LOGINS.jane })
      byProvider[provider] = (await listIds({ connected_account_id }, ws.apiKey)).sort()
      assert.equal(byProvider[provider].length, 2, provider)
    }
    for (const provider of ['august', 'schlage', 'yale', 'nuki']) {
      assert.deepEqual((await listIds({ device_type: `${provider}_lock` }, ws.apiKey)).sort(), byProvider[provider])
      assert.deepEqual((await listIds({ manufacturer: provider }, ws.apiKey)).sort(), byProvider[provider])
    }
    assert.deepEqual((await listIds({ device_type: 'ecobee_thermostat' }, ws.apiKey)).sort(), byProvider.ecobee)
    assert.deepEqual((await listIds({ manufacturer: 'ecobee' }, ws.apiKey)).sort(), byProvider.ecobee)
    const locks = assertOk(await call(srv, '/locks/list', { method: 'GET', token: ws.apiKey })).locks
    assert.deepEqual(
      locks.map((d) => d.device_id).sort(),
      [...byProvider.august, ...byProvider.schlage, ...byProvider.yale, ...byProvider.nuki].sort(),
    )
    // A thermostat is not a lock.
    const res = await call(srv, '/locks/get', { method: 'GET', token: ws.apiKey, query: { device_id: byProvider.ecobee[0] } })
    assert.equal(res.status, 404, res.text)
  })
})

