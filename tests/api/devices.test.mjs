// devices/get and devices/list: with an API key and a client session token,
// every filter, user_identifier_key narrowing, and pagination (raw, through
// next_page_url, and through the SDK paginator).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import {
  ALL_DEVICES,
  JANE_DEVICES,
  JOHN_DEVICES,
  SEED,
  assertError,
  assertInvalidInput,
  assertOk,
  call,
  createSession,
  deviceIds,
  deviceIdsOf,
  listDeviceIds,
  sdkFromApiKey,
  sdkFromToken,
  sdkRejects,
  uniqueKey,
  useServer,
} from './harness.mjs'

const srv = useServer()
const AK = SEED.apiKey1

const listIds = (query, token = AK) => listDeviceIds(srv, token, query)

async function listIdsPost(body, token = AK) {
  const res = await call(srv, '/devices/list', { token, body })
  return deviceIds(assertOk(res, 'devices'))
}

describe('devices/list', () => {
  it('API key: all five devices of workspace 1 in the fixed order', async () => {
    assert.deepEqual(await listIds(), ALL_DEVICES)
  })

  it("client session token: john's four devices in order", async () => {
    assert.deepEqual(await listIds({}, SEED.cst1), JOHN_DEVICES)
  })

  it('through the SDK with an API key and with a token', async () => {
    assert.deepEqual(deviceIdsOf(await sdkFromApiKey(srv, AK).devices.list()), ALL_DEVICES)
    assert.deepEqual(deviceIdsOf(await sdkFromToken(srv, SEED.cst1).devices.list()), JOHN_DEVICES)
  })

  it('the devices carry the fixture attributes', async () => {
    const res = await call(srv, '/devices/list', { method: 'GET', token: AK })
    const byId = Object.fromEntries(assertOk(res).devices.map((d) => [d.device_id, d]))
    const front = byId.august_device_1
    assert.equal(front.device_type, 'august_lock')
    assert.equal(front.connected_account_id, SEED.johnAccount)
    assert.equal(front.workspace_id, SEED.workspace1)
    assert.equal(front.display_name, 'Front Door')
    assert.equal(front.properties.name, 'Fake August Lock 1')
    assert.equal(front.properties.locked, true)
    assert.equal(byId.august_device_2.display_name, 'Back Door')
    assert.equal(byId.august_device_2.properties.name, 'Fake August Lock 2')
    assert.equal(byId.ecobee_device_1.device_type, 'ecobee_thermostat')
    assert.equal(byId.minut_device_1.device_type, 'minut_sensor')
    const bathroom = byId.schlage_device_id
    assert.equal(bathroom.device_type, 'schlage_lock')
    assert.equal(bathroom.connected_account_id, SEED.janeAccount)
    assert.equal(bathroom.display_name, 'Bathroom Door')
    assert.equal(bathroom.properties.locked, true)
  })
})

describe('devices/list filters', () => {
  const cases = [
    ['device_ids', { device_ids: ['minut_device_1', 'august_device_1'] }, ['august_device_1', 'minut_device_1']],
    ['device_ids with an unknown id', { device_ids: ['nope', 'ecobee_device_1'] }, ['ecobee_device_1']],
    ['connected_account_id (jane)', { connected_account_id: SEED.janeAccount }, ['schlage_device_id']],
    ['connected_account_id (john)', { connected_account_id: SEED.johnAccount }, JOHN_DEVICES],
    ['connected_account_ids', { connected_account_ids: [SEED.johnAccount] }, JOHN_DEVICES],
    ['connected_account_ids (both)', { connected_account_ids: [SEED.janeAccount, SEED.johnAccount] }, ALL_DEVICES],
    ['device_type', { device_type: 'august_lock' }, ['august_device_1', 'august_device_2']],
    ['device_type (thermostat)', { device_type: 'ecobee_thermostat' }, ['ecobee_device_1']],
    ['device_types', { device_types: ['minut_sensor', 'schlage_lock'] }, ['minut_device_1', 'schlage_device_id']],
    ['device_types (a type with no device)', { device_types: ['nest_thermostat'] }, []],
    ['manufacturer (august)', { manufacturer: 'august' }, ['august_device_1', 'august_device_2']],
    ['manufacturer (schlage)', { manufacturer: 'schlage' }, ['schlage_device_id']],
    ['user_identifier_key (john)', { user_identifier_key: SEED.johnKey }, JOHN_DEVICES],
    ['user_identifier_key (nobody): empty, not everything', { user_identifier_key: 'no_such_user_key' }, []],
    ['filters combine (device_type + device_ids)', { device_type: 'august_lock', device_ids: ['august_device_2', 'ecobee_device_1'] }, ['august_device_2']],
    ['filters combine (user_identifier_key + manufacturer)', { user_identifier_key: SEED.johnKey, manufacturer: 'ecobee' }, ['ecobee_device_1']],
  ]
  for (const [name, filter, expected] of cases) {
    it(`${name} (GET query)`, async () => {
      assert.deepEqual(await listIds(filter), expected)
    })
    it(`${name} (POST body)`, async () => {
      assert.deepEqual(await listIdsPost(filter), expected)
    })
  }

  it('the SDK passes filters (repeated query keys)', async () => {
    const seam = sdkFromApiKey(srv, AK)
    const devices = await seam.devices.list({
      device_types: ['august_lock', 'ecobee_thermostat'],
      connected_account_ids: [SEED.johnAccount],
    })
    assert.deepEqual(deviceIdsOf(devices), ['august_device_1', 'august_device_2', 'ecobee_device_1'])
  })

  it('user_identifier_key narrows to a session made through the API', async () => {
    const uik = uniqueKey('narrow')
    await createSession(srv, AK, { user_identifier_key: uik, connected_account_ids: [SEED.janeAccount] })
    assert.deepEqual(await listIds({ user_identifier_key: uik }), JANE_DEVICES)
    const seam = sdkFromApiKey(srv, AK)
    const devices = await seam.devices.list({ user_identifier_key: uik })
    assert.deepEqual(deviceIdsOf(devices), JANE_DEVICES)
  })

  it('filters apply within a client session token scope', async () => {
    assert.deepEqual(await listIds({ device_type: 'august_lock' }, SEED.cst1), [
      'august_device_1',
      'august_device_2',
    ])
    assert.deepEqual(await listIds({ device_ids: ['minut_device_1'] }, SEED.cst1), ['minut_device_1'])
  })

  it('an unknown device_type is invalid_input naming it', async () => {
    const res = await call(srv, '/devices/list', {
      method: 'GET',
      token: AK,
      query: { device_type: 'flux_capacitor' },
    })
    assertInvalidInput(res, 'device_type')
  })
})

describe('pagination', () => {
  async function page(query, token = AK) {
    const res = await call(srv, '/devices/list', { method: 'GET', token, query })
    return assertOk(res, 'devices')
  }

  it('limit=2 walks the five devices in pages of 2, 2, 1', async () => {
    const p1 = await page({ limit: 2 })
    assert.deepEqual(deviceIds(p1), ['august_device_1', 'august_device_2'])
    assert.equal(p1.pagination.has_next_page, true)
    assert.equal(typeof p1.pagination.next_page_cursor, 'string')
    const p2 = await page({ limit: 2, page_cursor: p1.pagination.next_page_cursor })
    assert.deepEqual(deviceIds(p2), ['ecobee_device_1', 'minut_device_1'])
    assert.equal(p2.pagination.has_next_page, true)
    const p3 = await page({ limit: 2, page_cursor: p2.pagination.next_page_cursor })
    assert.deepEqual(deviceIds(p3), ['schlage_device_id'])
    assert.equal(p3.pagination.has_next_page, false)
    assert.equal(p3.pagination.next_page_cursor, null)
    assert.equal(p3.pagination.next_page_url, null)
  })

  it('a page that ends exactly at the last device has no next page', async () => {
    const p = await page({ limit: 5 })
    assert.deepEqual(deviceIds(p), ALL_DEVICES)
    assert.equal(p.pagination.has_next_page, false)
    assert.equal(p.pagination.next_page_cursor, null)
  })

  it('paginates within a filter (POST body)', async () => {
    const res1 = await call(srv, '/devices/list', {
      token: AK,
      body: { connected_account_id: SEED.johnAccount, limit: 3 },
    })
    const p1 = assertOk(res1)
    assert.deepEqual(deviceIds(p1), JOHN_DEVICES.slice(0, 3))
    const res2 = await call(srv, '/devices/list', {
      token: AK,
      body: {
        connected_account_id: SEED.johnAccount,
        limit: 3,
        page_cursor: p1.pagination.next_page_cursor,
      },
    })
    const p2 = assertOk(res2)
    assert.deepEqual(deviceIds(p2), JOHN_DEVICES.slice(3))
    assert.equal(p2.pagination.has_next_page, false)
  })

  it('paginates within a client session token scope', async () => {
    const p1 = await page({ limit: 3 }, SEED.cst1)
    assert.deepEqual(deviceIds(p1), JOHN_DEVICES.slice(0, 3))
    const p2 = await page({ limit: 3, page_cursor: p1.pagination.next_page_cursor }, SEED.cst1)
    assert.deepEqual(deviceIds(p2), ['minut_device_1'])
    assert.equal(p2.pagination.has_next_page, false)
  })

  it('next_page_url, fetched with the same credential, gives the next page', async () => {
    const seen = []
    let body = await page({ limit: 2 })
    seen.push(...deviceIds(body))
    let hops = 0
    while (body.pagination.has_next_page) {
      const url = body.pagination.next_page_url
      assert.ok(url.startsWith(`${srv.url}/devices/list?`), url)
      const res = await fetch(url, { headers: { authorization: `Bearer ${AK}` } })
      assert.equal(res.status, 200, await res.clone().text())
      body = await res.json()
      seen.push(...deviceIds(body))
      assert.ok(++hops < 10, 'too many pages')
    }
    assert.deepEqual(seen, ALL_DEVICES)
  })

  it('next_page_url keeps the filters of the request', async () => {
    const body = await page({ limit: 1, device_types: ['august_lock', 'schlage_lock'] })
    assert.deepEqual(deviceIds(body), ['august_device_1'])
    const res = await fetch(body.pagination.next_page_url, {
      headers: { authorization: `Bearer ${AK}` },
    })
    assert.equal(res.status, 200)
    assert.deepEqual(deviceIds(await res.json()), ['august_device_2'])
  })

  it('the SDK paginator yields pages of 2, 2, 1 and flattens to the five devices', async () => {
    const seam = sdkFromApiKey(srv, AK)
    const pages = []
    for await (const devices of seam.createPaginator(seam.devices.list({ limit: 2 }))) {
      pages.push(deviceIdsOf(devices))
    }
    assert.deepEqual(pages, [
      ['august_device_1', 'august_device_2'],
      ['ecobee_device_1', 'minut_device_1'],
      ['schlage_device_id'],
    ])
    const flat = await seam.createPaginator(seam.devices.list({ limit: 2 })).flattenToArray()
    assert.deepEqual(deviceIdsOf(flat), ALL_DEVICES)
  })

  it('the SDK paginator works with a client session token and filters', async () => {
    const seam = sdkFromToken(srv, SEED.cst1)
    const flat = await seam
      .createPaginator(seam.devices.list({ limit: 1, device_types: ['august_lock', 'minut_sensor'] }))
      .flattenToArray()
    assert.deepEqual(deviceIdsOf(flat), ['august_device_1', 'august_device_2', 'minut_device_1'])
  })

  it('a cursor replayed with different filters is 400 invalid_input naming page_cursor', async () => {
    const p1 = await page({ limit: 2 })
    const cursor = p1.pagination.next_page_cursor
    for (const query of [
      { limit: 2, page_cursor: cursor, device_type: 'august_lock' },
      { limit: 2, page_cursor: cursor, user_identifier_key: SEED.johnKey },
      { limit: 2, page_cursor: cursor, device_ids: [] },
    ]) {
      assertInvalidInput(
        await call(srv, '/devices/list', { method: 'GET', token: AK, query }),
        'page_cursor',
      )
    }
    const filtered = await page({ limit: 1, manufacturer: 'august' })
    const res = await call(srv, '/devices/list', {
      method: 'GET',
      token: AK,
      query: { limit: 1, page_cursor: filtered.pagination.next_page_cursor },
    })
    assertInvalidInput(res, 'page_cursor')
  })

  it('the SDK reports a replayed cursor as invalid input', async () => {
    const p1 = await page({ limit: 2 })
    const seam = sdkFromApiKey(srv, AK)
    await sdkRejects(
      seam.devices.list({ page_cursor: p1.pagination.next_page_cursor, manufacturer: 'ecobee' }),
      400,
      'invalid_input',
    )
  })

  it('a cursor that is not one of ours is invalid_input naming page_cursor', async () => {
    for (const cursor of ['garbage', 'AAAA', Buffer.from('x'.repeat(32) + '.1').toString('base64url')]) {
      assertInvalidInput(
        await call(srv, '/devices/list', { method: 'GET', token: AK, query: { page_cursor: cursor } }),
        'page_cursor',
      )
    }
  })

  it("an API key's cursor replayed with a client session token shows nothing outside the token's scope", async () => {
    const p = await page({ limit: 3 })
    const res = await call(srv, '/devices/list', {
      method: 'GET',
      token: SEED.cst1,
      query: { limit: 3, page_cursor: p.pagination.next_page_cursor },
    })
    if (res.status === 200) {
      for (const id of deviceIds(res.body)) assert.ok(JOHN_DEVICES.includes(id), id)
    } else {
      assertInvalidInput(res, 'page_cursor')
    }
  })
})

describe('devices/get', () => {
  it('by device_id with an API key', async () => {
    const res = await call(srv, '/devices/get', {
      method: 'GET',
      token: AK,
      query: { device_id: 'schlage_device_id' },
    })
    const d = assertOk(res, 'device').device
    assert.equal(d.device_id, 'schlage_device_id')
    assert.equal(d.display_name, 'Bathroom Door')
  })

  it('by device_id with a client session token', async () => {
    const res = await call(srv, '/devices/get', {
      token: SEED.cst1,
      body: { device_id: 'ecobee_device_1' },
    })
    assert.equal(assertOk(res, 'device').device.device_id, 'ecobee_device_1')
  })

  it('by name: the display name or the provider name', async () => {
    for (const [name, id] of [
      ['Front Door', 'august_device_1'],
      ['Fake August Lock 1', 'august_device_1'],
      ['Fake August Lock 2', 'august_device_2'],
      ['Bathroom Door', 'schlage_device_id'],
    ]) {
      const res = await call(srv, '/devices/get', { method: 'GET', token: AK, query: { name } })
      assert.equal(assertOk(res, 'device').device.device_id, id, name)
    }
    const res = await call(srv, '/devices/get', {
      method: 'GET',
      token: SEED.cst1,
      query: { name: 'Back Door' },
    })
    assert.equal(assertOk(res).device.device_id, 'august_device_2')
  })

  it('through the SDK, by id and by name', async () => {
    const seam = sdkFromToken(srv, SEED.cst1)
    assert.equal((await seam.devices.get({ device_id: 'minut_device_1' })).device_id, 'minut_device_1')
    assert.equal((await seam.devices.get({ name: 'Front Door' })).device_id, 'august_device_1')
  })

  it('an unknown device is 404 device_not_found', async () => {
    for (const query of [{ device_id: 'no_such_device' }, { name: 'No Such Door' }]) {
      const res = await call(srv, '/devices/get', { method: 'GET', token: AK, query })
      assertError(res, 404, 'device_not_found')
    }
  })

  it('a device outside the scope is 404 device_not_found', async () => {
    const res = await call(srv, '/devices/get', {
      method: 'GET',
      token: SEED.cst1,
      query: { device_id: 'schlage_device_id' },
    })
    assertError(res, 404, 'device_not_found')
    await sdkRejects(
      sdkFromToken(srv, SEED.cst1).devices.get({ device_id: 'schlage_device_id' }),
      404,
      'device_not_found',
    )
  })

  it('neither device_id nor name is invalid_input', async () => {
    const res = await call(srv, '/devices/get', { method: 'GET', token: AK })
    assertError(res, 400, 'invalid_input')
  })
})
