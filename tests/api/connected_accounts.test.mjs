// connected_accounts/get, list, update, delete: accounts made by completing
// connect webviews, the seed accounts, user_identifier_key and
// custom_metadata_has filters, pagination, reconnecting the same login, and
// deletion taking the account's devices out of every session.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import {
  SEED,
  assertError,
  assertInvalidInput,
  assertResponseMatchesSchema,
  assertOk,
  call,
  deviceIds,
  isUuid,
  sdkFromApiKey,
  sdkFromToken,
  sdkRejects,
  useServer,
  uniqueKey,
  getChecked,
} from './harness.mjs'
import { LOGINS, connectAccount, newSandboxWorkspace } from './webview_flow.mjs'

const srv = useServer({ args: ['--action-delay-ms', '100'] })

const AK = SEED.apiKey1

async function getRaw(id, token = AK) {
  return call(srv, '/connected_accounts/get', {
    method: 'GET',
    token,
    query: { connected_account_id: id },
  })
}

async function get(id, token = AK) {
  const query = { connected_account_id: id }
  return (await getChecked(srv, '/connected_accounts/get', 'connected_account', query, token))
    .connected_account
}

const list = (query = {}, token = AK) =>
  getChecked(srv, '/connected_accounts/list', 'connected_accounts', query, token)

const accountIds = (accounts) => accounts.map((a) => a.connected_account_id)

async function listDeviceIds(query, token = AK) {
  return deviceIds(
    assertOk(await call(srv, '/devices/list', { method: 'GET', token, query }), 'devices'),
  )
}

async function newSession(apiKey, body = {}) {
  return assertOk(
    await call(srv, '/client_sessions/create', {
      token: apiKey,
      body: { user_identifier_key: uniqueKey('ca'), ...body },
    }),
    'client_session',
  ).client_session
}

async function sessionById(apiKey, id) {
  return assertOk(
    await call(srv, '/client_sessions/get', { method: 'GET', token: apiKey, query: { client_session_id: id } }),
    'client_session',
  ).client_session
}

describe('connected_accounts/get', () => {
  it('a seed account by id (GET and POST)', async () => {
    const john = await get(SEED.johnAccount)
    assert.equal(john.connected_account_id, SEED.johnAccount)
    assert.equal(john.account_type, 'august')
    assert.equal(john.user_identifier?.email, 'john@example.com')
    const res = await call(srv, '/connected_accounts/get', {
      token: AK,
      body: { connected_account_id: SEED.janeAccount },
    })
    const out = assertOk(res, 'connected_account')
    assertResponseMatchesSchema('/connected_accounts/get', out)
    assert.equal(out.connected_account.account_type, 'schlage')
    assert.equal(out.connected_account.user_identifier?.email, 'jane@example.com')
  })

  it('an account made through a webview', async () => {
    const ws = await newSandboxWorkspace(srv, 'CA get')
    const { connected_account_id } = await connectAccount(srv, ws.apiKey, {
      provider: 'nuki',
      username: LOGINS.john,
    })
    assert.ok(isUuid(connected_account_id))
    const acct = await get(connected_account_id, ws.apiKey)
    assert.equal(acct.account_type, 'nuki')
    assert.equal(acct.user_identifier?.email, LOGINS.john)
    assert.deepEqual(acct.custom_metadata, {})
    assert.deepEqual(acct.errors, [])
    assert.ok(typeof acct.created_at === 'string' && !Number.isNaN(Date.parse(acct.created_at)))
    const viaSdk = await sdkFromApiKey(srv, ws.apiKey).connectedAccounts.get({ connected_account_id })
    assert.deepEqual(viaSdk, acct)
  })

  it('with a client session token: its own account, not another', async () => {
    assert.equal((await get(SEED.johnAccount, SEED.cst1)).connected_account_id, SEED.johnAccount)
    assertError(await getRaw(SEED.janeAccount, SEED.cst1), 404, 'connected_account_not_found')
    await sdkRejects(
      sdkFromToken(srv, SEED.cst1).connectedAccounts.get({ connected_account_id: SEED.janeAccount }),
      404,
    )
  })

  it('by email', async () => {
    const res = await call(srv, '/connected_accounts/get', { method: 'GET', token: AK, query: { email: 'john@example.com' } })
    assert.equal(assertOk(res, 'connected_account').connected_account.connected_account_id, SEED.johnAccount)
    const own = await call(srv, '/connected_accounts/get', { token: SEED.cst1, body: { email: 'john@example.com' } })
    assert.equal(assertOk(own).connected_account.connected_account_id, SEED.johnAccount)
    const other = await call(srv, '/connected_accounts/get', { token: SEED.cst1, body: { email: 'jane@example.com' } })
    assertError(other, 404, 'connected_account_not_found')
    const ws2 = await call(srv, '/connected_accounts/get', { token: SEED.apiKey2, body: { email: 'john@example.com' } })
    assertError(ws2, 404, 'connected_account_not_found')
  })

  it('unknown, or in another workspace: 404 connected_account_not_found', async () => {
    assertError(await getRaw('no_such_account'), 404, 'connected_account_not_found')
    assertError(await getRaw('00000000-0000-4000-8000-000000000000'), 404, 'connected_account_not_found')
    assertError(await getRaw(SEED.johnAccount, SEED.apiKey2), 404, 'connected_account_not_found')
  })

  it('without an id is invalid_input', async () => {
    assertError(await call(srv, '/connected_accounts/get', { method: 'GET', token: AK }), 400, 'invalid_input')
  })
})

describe('connected_accounts/list', () => {
  it('with an API key: the workspace accounts, seed ones included; not another workspace', async () => {
    const ids = accountIds((await list()).connected_accounts)
    assert.ok(ids.includes(SEED.johnAccount) && ids.includes(SEED.janeAccount))
    const other = accountIds((await list({}, SEED.apiKey2)).connected_accounts)
    assert.ok(!other.includes(SEED.johnAccount) && !other.includes(SEED.janeAccount))
  })

  it('a client session token may not list (403)', async () => {
    assertError(await call(srv, '/connected_accounts/list', { method: 'GET', token: SEED.cst1 }), 403)
  })

  it('user_identifier_key narrows to the session; an unknown key gives nothing', async () => {
    assert.deepEqual(accountIds((await list({ user_identifier_key: SEED.johnKey })).connected_accounts), [
      SEED.johnAccount,
    ])
    assert.deepEqual((await list({ user_identifier_key: uniqueKey('nobody') })).connected_accounts, [])
    // A session that holds a webview: the account it connected.
    const ws = await newSandboxWorkspace(srv, 'CA uik')
    const uik = uniqueKey('uik')
    const session = await newSession(ws.apiKey, { user_identifier_key: uik })
    const { connected_account_id } = await connectAccount(srv, session.token, {
      provider: 'august',
      username: LOGINS.jane,
    })
    await connectAccount(srv, ws.apiKey, { provider: 'august', username: LOGINS.john })
    assert.deepEqual(
      accountIds((await list({ user_identifier_key: uik }, ws.apiKey)).connected_accounts),
      [connected_account_id],
    )
    assert.equal((await list({}, ws.apiKey)).connected_accounts.length, 2)
    const viaSdk = await sdkFromApiKey(srv, ws.apiKey).connectedAccounts.list({ user_identifier_key: uik })
    assert.deepEqual(accountIds(viaSdk), [connected_account_id])
  })

  it('custom_metadata_has: accounts whose metadata holds every given pair', async () => {
    const ws = await newSandboxWorkspace(srv, 'CA metadata')
    const a = await connectAccount(srv, ws.apiKey, { provider: 'yale', username: LOGINS.jane })
    const b = await connectAccount(srv, ws.apiKey, { provider: 'yale', username: LOGINS.john })
    const c = await connectAccount(srv, ws.apiKey, { provider: 'yale', username: LOGINS.offline })
    const seam = sdkFromApiKey(srv, ws.apiKey)
    await seam.connectedAccounts.update({
      connected_account_id: a.connected_account_id,
      custom_metadata: { team: 'red', vip: true },
    })
    await seam.connectedAccounts.update({
      connected_account_id: b.connected_account_id,
      custom_metadata: { team: 'red', vip: false },
    })
    await seam.connectedAccounts.update({
      connected_account_id: c.connected_account_id,
      custom_metadata: { team: 'blue' },
    })
    const post = async (has) =>
      accountIds(
        assertOk(
          await call(srv, '/connected_accounts/list', { token: ws.apiKey, body: { custom_metadata_has: has } }),
        ).connected_accounts,
      ).sort()
    assert.deepEqual(await post({ team: 'red' }), [a.connected_account_id, b.connected_account_id].sort())
    assert.deepEqual(await post({ team: 'red', vip: true }), [a.connected_account_id])
    assert.deepEqual(await post({ vip: false }), [b.connected_account_id])
    assert.deepEqual(await post({ team: 'blue' }), [c.connected_account_id])
    assert.deepEqual(await post({ team: 'green' }), [])
    // The SDK sends GET with custom_metadata_has.team=red style keys.
    const viaSdk = await seam.connectedAccounts.list({ custom_metadata_has: { team: 'red', vip: true } })
    assert.deepEqual(accountIds(viaSdk), [a.connected_account_id])
  })

  it('limit and page_cursor walk every account once', async () => {
    const ws = await newSandboxWorkspace(srv, 'CA pages')
    const made = []
    for (const provider of ['august', 'schlage', 'nuki']) {
      made.push((await connectAccount(srv, ws.apiKey, { provider, username: LOGINS.jane })).connected_account_id)
    }
    const p1 = await list({ limit: 2 }, ws.apiKey)
    assert.equal(p1.connected_accounts.length, 2)
    assert.equal(p1.pagination.has_next_page, true)
    const p2 = await list({ limit: 2, page_cursor: p1.pagination.next_page_cursor }, ws.apiKey)
    assert.equal(p2.connected_accounts.length, 1)
    assert.equal(p2.pagination.has_next_page, false)
    const seen = [...accountIds(p1.connected_accounts), ...accountIds(p2.connected_accounts)]
    assert.deepEqual([...seen].sort(), [...made].sort())
    // A cursor replayed with another filter is rejected.
    assertInvalidInput(
      await call(srv, '/connected_accounts/list', {
        method: 'GET',
        token: ws.apiKey,
        query: { limit: 2, page_cursor: p1.pagination.next_page_cursor, user_identifier_key: 'x' },
      }),
      'page_cursor',
    )
    // The SDK paginator flattens to the same accounts.
    const seam = sdkFromApiKey(srv, ws.apiKey)
    const flat = await seam.createPaginator(seam.connectedAccounts.list({ limit: 1 })).flattenToArray()
    assert.deepEqual(accountIds(flat).sort(), [...made].sort())
  })
})

describe('connected_accounts/update', () => {
  it('sets custom_metadata (and returns the account); the seed token still reads it', async () => {
    const res = await call(srv, '/connected_accounts/update', {
      token: AK,
      body: { connected_account_id: SEED.johnAccount, custom_metadata: { crm_id: 'c-42', active: true } },
    })
    const out = assertOk(res)
    assertResponseMatchesSchema('/connected_accounts/update', out)
    if (out.connected_account) assert.deepEqual(out.connected_account.custom_metadata, { crm_id: 'c-42', active: true })
    const john = await get(SEED.johnAccount, SEED.cst1)
    assert.deepEqual(john.custom_metadata, { crm_id: 'c-42', active: true })
  })

  it('PATCH works as POST does', async () => {
    const res = await call(srv, '/connected_accounts/update', {
      method: 'PATCH',
      token: AK,
      body: { connected_account_id: SEED.janeAccount, custom_metadata: { floor: '3' } },
    })
    assertOk(res)
    assert.equal((await get(SEED.janeAccount)).custom_metadata.floor, '3')
  })

  it('a client session token may not update (403), even its own account; nothing changes', async () => {
    const before = await get(SEED.johnAccount)
    assertError(
      await call(srv, '/connected_accounts/update', {
        token: SEED.cst1,
        body: { connected_account_id: SEED.johnAccount, custom_metadata: { hacked: true } },
      }),
      403,
    )
    assert.deepEqual(await get(SEED.johnAccount), before)
  })

  it('unknown or another workspace: 404 and nothing changes', async () => {
    const before = await get(SEED.janeAccount)
    for (const [token, id] of [
      [AK, 'no_such_account'],
      [SEED.apiKey2, SEED.janeAccount],
    ]) {
      assertError(
        await call(srv, '/connected_accounts/update', {
          token,
          body: { connected_account_id: id, custom_metadata: { x: 'y' } },
        }),
        404,
        'connected_account_not_found',
      )
    }
    assert.deepEqual(await get(SEED.janeAccount), before)
  })

  it('bad custom_metadata is invalid_input naming it', async () => {
    const res = await call(srv, '/connected_accounts/update', {
      token: AK,
      body: { connected_account_id: SEED.janeAccount, custom_metadata: 'not an object' },
    })
    assertInvalidInput(res, 'custom_metadata')
  })
})

describe('reconnecting the same login', () => {
  it('updates the existing account: same id, same device ids; both webviews name it', async () => {
    const ws = await newSandboxWorkspace(srv, 'CA reconnect')
    const s1 = await newSession(ws.apiKey)
    const s2 = await newSession(ws.apiKey)
    const first = await connectAccount(srv, s1.token, { provider: 'august', username: LOGINS.john })
    const devicesBefore = (await listDeviceIds({ connected_account_id: first.connected_account_id }, ws.apiKey)).sort()
    assert.equal(devicesBefore.length, 3)
    const acctBefore = await get(first.connected_account_id, ws.apiKey)

    const second = await connectAccount(srv, s2.token, { provider: 'august', username: LOGINS.john })
    assert.equal(second.connected_account_id, first.connected_account_id)
    assert.deepEqual(
      (await listDeviceIds({ connected_account_id: first.connected_account_id }, ws.apiKey)).sort(),
      devicesBefore,
    )
    assert.equal((await list({}, ws.apiKey)).connected_accounts.length, 1)
    const acctAfter = await get(first.connected_account_id, ws.apiKey)
    assert.equal(acctAfter.created_at, acctBefore.created_at)
    // Both sessions hold it now (each through its own webview).
    assert.deepEqual((await listDeviceIds({}, s1.token)).sort(), devicesBefore)
    assert.deepEqual((await listDeviceIds({}, s2.token)).sort(), devicesBefore)
    // A different provider with the same email is a different account.
    const other = await connectAccount(srv, ws.apiKey, { provider: 'schlage', username: LOGINS.john })
    assert.notEqual(other.connected_account_id, first.connected_account_id)
  })

  it('two webviews completing the same login at the same moment still make one account', async () => {
    const ws = await newSandboxWorkspace(srv, 'CA race')
    const made = await Promise.all(
      Array.from({ length: 4 }, () =>
        connectAccount(srv, ws.apiKey, { provider: 'nuki', username: LOGINS.offline }),
      ),
    )
    const ids = new Set(made.map((m) => m.connected_account_id))
    assert.equal(ids.size, 1, `one account, got ${[...ids]}`)
    assert.equal((await list({}, ws.apiKey)).connected_accounts.length, 1)
    assert.equal((await listDeviceIds({}, ws.apiKey)).length, 2, 'no duplicate devices')
  })

  it('the same login in another workspace is another account with other devices', async () => {
    const a = await newSandboxWorkspace(srv, 'CA ws A')
    const b = await newSandboxWorkspace(srv, 'CA ws B')
    const inA = await connectAccount(srv, a.apiKey, { provider: 'yale', username: LOGINS.offline })
    const inB = await connectAccount(srv, b.apiKey, { provider: 'yale', username: LOGINS.offline })
    assert.notEqual(inA.connected_account_id, inB.connected_account_id)
    const da = await listDeviceIds({}, a.apiKey)
    const db = await listDeviceIds({}, b.apiKey)
    assert.equal(da.length, 2)
    assert.equal(db.length, 2)
    assert.ok(da.every((id) => !db.includes(id)))
  })
})

describe('connected_accounts/delete', () => {
  it('removes the account and its devices, and takes them out of every session', async () => {
    const ws = await newSandboxWorkspace(srv, 'CA delete')
    const viaWebview = await newSession(ws.apiKey)
    const { connected_account_id } = await connectAccount(srv, viaWebview.token, {
      provider: 'schlage',
      username: LOGINS.jane,
    })
    const keep = await connectAccount(srv, ws.apiKey, { provider: 'schlage', username: LOGINS.john })
    const direct = await newSession(ws.apiKey, {
      connected_account_ids: [connected_account_id, keep.connected_account_id],
    })
    const gone = await listDeviceIds({ connected_account_id }, ws.apiKey)
    const kept = await listDeviceIds({ connected_account_id: keep.connected_account_id }, ws.apiKey)
    assert.equal(gone.length, 2)
    assert.equal((await sessionById(ws.apiKey, direct.client_session_id)).device_count, 5)
    assert.equal((await sessionById(ws.apiKey, viaWebview.client_session_id)).device_count, 2)

    const res = await call(srv, '/connected_accounts/delete', {
      token: ws.apiKey,
      body: { connected_account_id },
    })
    assertResponseMatchesSchema('/connected_accounts/delete', assertOk(res))

    assertError(await getRaw(connected_account_id, ws.apiKey), 404, 'connected_account_not_found')
    assert.ok(!accountIds((await list({}, ws.apiKey)).connected_accounts).includes(connected_account_id))
    for (const id of gone) {
      assertError(
        await call(srv, '/devices/get', { method: 'GET', token: ws.apiKey, query: { device_id: id } }),
        404,
        'device_not_found',
      )
    }
    assert.deepEqual((await listDeviceIds({}, ws.apiKey)).sort(), [...kept].sort())
    const d = await sessionById(ws.apiKey, direct.client_session_id)
    assert.ok(!d.connected_account_ids.includes(connected_account_id), JSON.stringify(d))
    assert.equal(d.device_count, 3)
    const w = await sessionById(ws.apiKey, viaWebview.client_session_id)
    assert.ok(!w.connected_account_ids.includes(connected_account_id), JSON.stringify(w))
    assert.equal(w.device_count, 0)
    assert.deepEqual(await listDeviceIds({}, viaWebview.token), [])
    assert.deepEqual((await listDeviceIds({}, direct.token)).sort(), [...kept].sort())
    // Reading the gone devices with the tokens: 404.
    for (const id of gone) {
      assertError(
        await call(srv, '/devices/get', { method: 'GET', token: direct.token, query: { device_id: id } }),
        404,
      )
    }
  })

  it('DELETE with the id in the query, and through the SDK', async () => {
    const ws = await newSandboxWorkspace(srv, 'CA delete 2')
    const a = await connectAccount(srv, ws.apiKey, { provider: 'nuki', username: LOGINS.jane })
    const b = await connectAccount(srv, ws.apiKey, { provider: 'nuki', username: LOGINS.john })
    assertOk(
      await call(srv, '/connected_accounts/delete', {
        method: 'DELETE',
        token: ws.apiKey,
        query: { connected_account_id: a.connected_account_id },
      }),
    )
    assertError(await getRaw(a.connected_account_id, ws.apiKey), 404)
    await sdkFromApiKey(srv, ws.apiKey).connectedAccounts.delete({ connected_account_id: b.connected_account_id })
    assertError(await getRaw(b.connected_account_id, ws.apiKey), 404)
    assert.deepEqual(await listDeviceIds({}, ws.apiKey), [])
  })

  it('a client session token may not delete (403); another workspace gets 404; nothing changes', async () => {
    const before = await get(SEED.johnAccount)
    const devicesBefore = await listDeviceIds({})
    assertError(
      await call(srv, '/connected_accounts/delete', {
        token: SEED.cst1,
        body: { connected_account_id: SEED.johnAccount },
      }),
      403,
    )
    assertError(
      await call(srv, '/connected_accounts/delete', {
        token: SEED.apiKey2,
        body: { connected_account_id: SEED.johnAccount },
      }),
      404,
      'connected_account_not_found',
    )
    assert.deepEqual(await get(SEED.johnAccount), before)
    assert.deepEqual(await listDeviceIds({}), devicesBefore)
  })

  it('an unknown account: 404', async () => {
    assertError(
      await call(srv, '/connected_accounts/delete', {
        token: AK,
        body: { connected_account_id: '00000000-0000-4000-8000-000000000000' },
      }),
      404,
      'connected_account_not_found',
    )
  })

  it('connecting the login again after delete gives working devices again', async () => {
    const ws = await newSandboxWorkspace(srv, 'CA delete reconnect')
    const first = await connectAccount(srv, ws.apiKey, { provider: 'august', username: LOGINS.jane })
    assertOk(
      await call(srv, '/connected_accounts/delete', {
        token: ws.apiKey,
        body: { connected_account_id: first.connected_account_id },
      }),
    )
    const again = await connectAccount(srv, ws.apiKey, { provider: 'august', username: LOGINS.jane })
    await get(again.connected_account_id, ws.apiKey)
    assert.equal((await listDeviceIds({ connected_account_id: again.connected_account_id }, ws.apiKey)).length, 2)
  })
})
