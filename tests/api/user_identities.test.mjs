// user_identities/create, get, list, update, delete: API key only, one
// workspace's identities invisible to another, unique user_identity_key per
// workspace, and client sessions created for / granted a user identity.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import {
  SEED,
  assertError,
  assertInvalidInput,
  assertResponseMatchesSchema,
  assertOk,
  call,
  isUuid,
  sdkFromApiKey,
  sdkRejects,
  useServer,
  uniqueKey,
  getChecked,
} from './harness.mjs'
import { newSandboxWorkspace } from './webview_flow.mjs'

const srv = useServer()

const AK = SEED.apiKey1
const AK2 = SEED.apiKey2

async function create(body = {}, token = AK) {
  const out = assertOk(await call(srv, '/user_identities/create', { token, body }), 'user_identity')
  assertResponseMatchesSchema('/user_identities/create', out)
  return out.user_identity
}

async function getRaw(query, token = AK) {
  return call(srv, '/user_identities/get', { method: 'GET', token, query })
}

async function get(query, token = AK) {
  return (await getChecked(srv, '/user_identities/get', 'user_identity', query, token))
    .user_identity
}

const list = (query = {}, token = AK) =>
  getChecked(srv, '/user_identities/list', 'user_identities', query, token)

const identityIds = (items) => items.map((u) => u.user_identity_id)

describe('user_identities/create', () => {
  it('with key, email, name and phone', async () => {
    const key = uniqueKey('ui')
    const ui = await create({
      user_identity_key: key,
      email_address: 'ada@example.com',
      full_name: 'Ada Lovelace',
      phone_number: '+15555550100',
    })
    assert.ok(isUuid(ui.user_identity_id), ui.user_identity_id)
    assert.equal(ui.workspace_id, SEED.workspace1)
    assert.equal(ui.user_identity_key, key)
    assert.equal(ui.email_address, 'ada@example.com')
    assert.equal(ui.full_name, 'Ada Lovelace')
    assert.equal(ui.phone_number, '+15555550100')
    assert.equal(typeof ui.display_name, 'string')
    assert.ok(ui.display_name.length > 0)
    assert.deepEqual(ui.acs_user_ids, [])
    assert.deepEqual(ui.errors, [])
    assert.deepEqual(ui.warnings, [])
    assert.ok(!Number.isNaN(Date.parse(ui.created_at)))
  })

  it('with nothing: the optional fields are null', async () => {
    // In a workspace of its own: an identity with no name lands in no other list.
    const ws = await newSandboxWorkspace(srv, 'Bare identity')
    const ui = await create({}, ws.apiKey)
    assert.equal(ui.user_identity_key, null)
    assert.equal(ui.email_address, null)
    assert.equal(ui.full_name, null)
    assert.equal(ui.phone_number, null)
  })

  it('through the SDK', async () => {
    const seam = sdkFromApiKey(srv, AK)
    const key = uniqueKey('sdk')
    const ui = await seam.userIdentities.create({ user_identity_key: key, full_name: 'Grace Hopper' })
    assert.equal(ui.user_identity_key, key)
    assert.deepEqual(await seam.userIdentities.get({ user_identity_id: ui.user_identity_id }), ui)
  })

  it('a user_identity_key already used in the workspace is refused; another workspace may use it', async () => {
    const key = uniqueKey('dup')
    const first = await create({ user_identity_key: key })
    const res = await call(srv, '/user_identities/create', { token: AK, body: { user_identity_key: key } })
    assert.ok([400, 409].includes(res.status), `expected 400 or 409, got ${res.status}: ${res.text}`)
    assertError(res, res.status)
    assert.deepEqual(identityIds((await list()).user_identities).filter((id) => id === first.user_identity_id), [
      first.user_identity_id,
    ])
    // The seed key too.
    const seedDup = await call(srv, '/user_identities/create', {
      token: AK,
      body: { user_identity_key: SEED.johnKey },
    })
    assert.ok([400, 409].includes(seedDup.status), seedDup.text)
    // Workspace 2 has its own namespace.
    const other = await create({ user_identity_key: key }, AK2)
    assert.notEqual(other.user_identity_id, first.user_identity_id)
    assert.equal(other.workspace_id, SEED.workspace2)
  })

  it('a bad email_address is invalid_input naming it', async () => {
    assertInvalidInput(
      await call(srv, '/user_identities/create', { token: AK, body: { email_address: 'not-an-email' } }),
      'email_address',
    )
  })
})

describe('user_identities/get', () => {
  it('the seed identity by id and by key', async () => {
    const byId = await get({ user_identity_id: SEED.johnIdentity })
    assert.equal(byId.user_identity_id, SEED.johnIdentity)
    assert.equal(byId.user_identity_key, SEED.johnKey)
    const byKey = await get({ user_identity_key: SEED.johnKey })
    assert.deepEqual(byKey, byId)
    const post = assertOk(
      await call(srv, '/user_identities/get', { token: AK, body: { user_identity_id: SEED.johnIdentity } }),
    )
    assertResponseMatchesSchema('/user_identities/get', post)
    assert.deepEqual(post.user_identity, byId)
  })

  it('unknown id or key: 404 user_identity_not_found', async () => {
    assertError(await getRaw({ user_identity_id: '00000000-0000-4000-8000-000000000000' }), 404, 'user_identity_not_found')
    assertError(await getRaw({ user_identity_key: uniqueKey('none') }), 404, 'user_identity_not_found')
  })

  it('neither id nor key: invalid_input', async () => {
    assertError(await getRaw({}), 400, 'invalid_input')
  })
})

describe('user_identities/list', () => {
  it('the workspace identities; the other workspace sees none of them', async () => {
    const a = await create({ user_identity_key: uniqueKey('l') })
    const ids = identityIds((await list()).user_identities)
    assert.ok(ids.includes(SEED.johnIdentity) && ids.includes(a.user_identity_id))
    const other = identityIds((await list({}, AK2)).user_identities)
    assert.ok(!other.includes(SEED.johnIdentity) && !other.includes(a.user_identity_id))
  })

  it('user_identity_ids filter', async () => {
    const a = await create({ full_name: 'Some One' })
    const b = await create({ full_name: 'Some One' })
    await create({ full_name: 'Some One' })
    assert.deepEqual(
      identityIds((await list({ user_identity_ids: [a.user_identity_id, b.user_identity_id] })).user_identities).sort(),
      [a.user_identity_id, b.user_identity_id].sort(),
    )
    assert.deepEqual(
      (await list({ user_identity_ids: [a.user_identity_id] }, AK2)).user_identities,
      [],
    )
  })

  it('limit and page_cursor walk every identity once', async () => {
    for (let i = 0; i < 3; i++) await create({ full_name: `Pager ${i}` })
    const total = (await list()).user_identities.length
    const seen = []
    let cursor
    for (let hops = 0; hops < 50; hops++) {
      const out = await list({ limit: 2, ...(cursor ? { page_cursor: cursor } : {}) })
      assert.ok(out.user_identities.length <= 2)
      seen.push(...identityIds(out.user_identities))
      if (!out.pagination.has_next_page) break
      cursor = out.pagination.next_page_cursor
    }
    assert.equal(seen.length, total)
    assert.equal(new Set(seen).size, total)
  })
})

describe('user_identities/update', () => {
  it('changes the given fields only', async () => {
    const ui = await create({ user_identity_key: uniqueKey('u'), full_name: 'Old Name', email_address: 'old@example.com' })
    const res = await call(srv, '/user_identities/update', {
      token: AK,
      body: { user_identity_id: ui.user_identity_id, full_name: 'New Name', phone_number: '+15555550111' },
    })
    assertResponseMatchesSchema('/user_identities/update', assertOk(res))
    const after = await get({ user_identity_id: ui.user_identity_id })
    assert.equal(after.full_name, 'New Name')
    assert.equal(after.phone_number, '+15555550111')
    assert.equal(after.email_address, 'old@example.com')
    assert.equal(after.user_identity_key, ui.user_identity_key)
    assert.equal(after.created_at, ui.created_at)
  })

  it('null clears a field (or is refused), never silently ignored', async () => {
    const ui = await create({ full_name: 'Null Test', email_address: 'null@example.com', phone_number: '+15555550199' })
    for (const field of ['email_address', 'phone_number']) {
      const res = await call(srv, '/user_identities/update', {
        token: AK,
        body: { user_identity_id: ui.user_identity_id, [field]: null },
      })
      const after = await get({ user_identity_id: ui.user_identity_id })
      if (res.status === 200) assert.equal(after[field], null, `${field}: null was accepted but not applied`)
      else {
        assertInvalidInput(res, field)
        assert.equal(after[field], ui[field])
      }
    }
  })

  it('a new user_identity_key: found by it, no longer by the old one', async () => {
    const oldKey = uniqueKey('old')
    const newKey = uniqueKey('new')
    const ui = await create({ user_identity_key: oldKey })
    await sdkFromApiKey(srv, AK).userIdentities.update({ user_identity_id: ui.user_identity_id, user_identity_key: newKey })
    assert.equal((await get({ user_identity_key: newKey })).user_identity_id, ui.user_identity_id)
    assertError(await getRaw({ user_identity_key: oldKey }), 404, 'user_identity_not_found')
  })

  it("taking another identity's key is refused and nothing changes", async () => {
    const a = await create({ user_identity_key: uniqueKey('a') })
    const b = await create({ user_identity_key: uniqueKey('b') })
    const res = await call(srv, '/user_identities/update', {
      token: AK,
      body: { user_identity_id: b.user_identity_id, user_identity_key: a.user_identity_key },
    })
    assert.ok([400, 409].includes(res.status), `expected 400 or 409, got ${res.status}: ${res.text}`)
    assert.deepEqual(await get({ user_identity_id: b.user_identity_id }), b)
  })

  it('PATCH works; unknown id is 404', async () => {
    const ui = await create({ full_name: 'Some One' })
    assertOk(
      await call(srv, '/user_identities/update', {
        method: 'PATCH',
        token: AK,
        body: { user_identity_id: ui.user_identity_id, full_name: 'Patched' },
      }),
    )
    assert.equal((await get({ user_identity_id: ui.user_identity_id })).full_name, 'Patched')
    assertError(
      await call(srv, '/user_identities/update', {
        token: AK,
        body: { user_identity_id: '00000000-0000-4000-8000-000000000000', full_name: 'x' },
      }),
      404,
      'user_identity_not_found',
    )
  })
})

describe('user_identities/delete', () => {
  it('gone from get and list (POST body, DELETE query, SDK)', async () => {
    const a = await create({ user_identity_key: uniqueKey('d') })
    const b = await create({ full_name: 'Some One' })
    const c = await create({ full_name: 'Some One' })
    assertResponseMatchesSchema(
      '/user_identities/delete',
      assertOk(await call(srv, '/user_identities/delete', { token: AK, body: { user_identity_id: a.user_identity_id } })),
    )
    assertOk(
      await call(srv, '/user_identities/delete', {
        method: 'DELETE',
        token: AK,
        query: { user_identity_id: b.user_identity_id },
      }),
    )
    await sdkFromApiKey(srv, AK).userIdentities.delete({ user_identity_id: c.user_identity_id })
    for (const ui of [a, b, c]) {
      assertError(await getRaw({ user_identity_id: ui.user_identity_id }), 404, 'user_identity_not_found')
    }
    const ids = identityIds((await list()).user_identities)
    for (const ui of [a, b, c]) assert.ok(!ids.includes(ui.user_identity_id))
    // The key is free again.
    await create({ user_identity_key: a.user_identity_key })
    assertError(
      await call(srv, '/user_identities/delete', { token: AK, body: { user_identity_id: a.user_identity_id } }),
      404,
      'user_identity_not_found',
    )
  })
})

describe('credentials and workspaces', () => {
  it('a client session token may use none of the routes (403)', async () => {
    const ui = await create({ full_name: 'Some One' })
    for (const [route, body] of [
      ['/user_identities/create', { full_name: 'From a token' }],
      ['/user_identities/get', { user_identity_id: SEED.johnIdentity }],
      ['/user_identities/list', {}],
      ['/user_identities/update', { user_identity_id: ui.user_identity_id, full_name: 'x' }],
      ['/user_identities/delete', { user_identity_id: ui.user_identity_id }],
    ]) {
      assertError(await call(srv, route, { token: SEED.cst1, body }), 403)
    }
    assert.deepEqual(await get({ user_identity_id: ui.user_identity_id }), ui)
  })

  it("another workspace's API key gets 404 on get, update and delete, and nothing changes", async () => {
    const ui = await create({ user_identity_key: uniqueKey('ws'), full_name: 'Keep Me' })
    assertError(await getRaw({ user_identity_id: ui.user_identity_id }, AK2), 404, 'user_identity_not_found')
    assertError(await getRaw({ user_identity_key: ui.user_identity_key }, AK2), 404, 'user_identity_not_found')
    assertError(
      await call(srv, '/user_identities/update', {
        token: AK2,
        body: { user_identity_id: ui.user_identity_id, full_name: 'Stolen' },
      }),
      404,
    )
    assertError(
      await call(srv, '/user_identities/delete', { token: AK2, body: { user_identity_id: ui.user_identity_id } }),
      404,
    )
    await sdkRejects(sdkFromApiKey(srv, AK2).userIdentities.get({ user_identity_id: SEED.johnIdentity }), 404)
    assert.deepEqual(await get({ user_identity_id: ui.user_identity_id }), ui)
  })
})

describe('client sessions and user identities', () => {
  it('a session created for a new identity names it and is listed by it', async () => {
    const ui = await create({ user_identity_key: uniqueKey('cs') })
    const cs = assertOk(
      await call(srv, '/client_sessions/create', {
        token: AK,
        body: { user_identifier_key: uniqueKey('cs'), user_identity_id: ui.user_identity_id },
      }),
      'client_session',
    ).client_session
    assert.equal(cs.user_identity_id, ui.user_identity_id)
    const listed = assertOk(
      await call(srv, '/client_sessions/list', {
        method: 'GET',
        token: AK,
        query: { user_identity_id: ui.user_identity_id },
      }),
    ).client_sessions
    assert.deepEqual(
      listed.map((s) => s.client_session_id),
      [cs.client_session_id],
    )
    // The token's own session names it too.
    const own = assertOk(await call(srv, '/client_sessions/get', { method: 'GET', token: cs.token })).client_session
    assert.equal(own.user_identity_id, ui.user_identity_id)
  })

  it('grant_access and get_or_create with a user_identity_id', async () => {
    const ui = await create({ full_name: 'Some One' })
    const seam = sdkFromApiKey(srv, AK)
    const uik = uniqueKey('grant')
    const cs = await seam.clientSessions.create({ user_identifier_key: uik })
    await seam.clientSessions.grantAccess({
      client_session_id: cs.client_session_id,
      user_identity_id: ui.user_identity_id,
    })
    const got = await seam.clientSessions.get({ client_session_id: cs.client_session_id })
    assert.equal(got.user_identity_id, ui.user_identity_id)
    const listed = await seam.clientSessions.list({ user_identity_id: ui.user_identity_id })
    assert.deepEqual(
      listed.map((s) => s.client_session_id),
      [cs.client_session_id],
    )
    const ui2 = await create({ full_name: 'Some One' })
    const made = await seam.clientSessions.getOrCreate({
      user_identifier_key: uniqueKey('goc'),
      user_identity_id: ui2.user_identity_id,
    })
    assert.equal(made.user_identity_id, ui2.user_identity_id)
  })

  it("another workspace's identity cannot be given to a session", async () => {
    const theirs = await create({ full_name: 'Other One' }, AK2)
    const res = await call(srv, '/client_sessions/create', {
      token: AK,
      body: { user_identifier_key: uniqueKey('x'), user_identity_id: theirs.user_identity_id },
    })
    assertInvalidInput(res, 'user_identity_id')
    const cs = assertOk(
      await call(srv, '/client_sessions/create', { token: AK, body: { user_identifier_key: uniqueKey('y') } }),
    ).client_session
    const grant = await call(srv, '/client_sessions/grant_access', {
      token: AK,
      body: { client_session_id: cs.client_session_id, user_identity_id: theirs.user_identity_id },
    })
    assert.equal(grant.status, 400, grant.text)
    const after = assertOk(
      await call(srv, '/client_sessions/get', { method: 'GET', token: AK, query: { client_session_id: cs.client_session_id } }),
    ).client_session
    assert.equal(after.user_identity_id ?? null, null)
  })
})
