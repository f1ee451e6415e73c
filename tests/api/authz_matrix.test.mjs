// The authorization matrix, generated from the route table: every route that
// `latchkey routes` prints is called (its first method, the valid parameters
// of MATRIX below) with every credential of CREDENTIALS: own and the other
// workspace's API key, john's client session token in each of its headers,
// other users' tokens, expired / revoked / deleted tokens, the publishable
// key with and without a user key, each credential in a header that does not
// take its kind, malformed, empty and missing credentials. The status and
// error type follow from the credentials the route allows; no response shows
// an object of another user or workspace; snapshots taken with the API key
// show that nothing changed but the matrix's own objects. A route without a
// MATRIX entry fails the suite, so a new route cannot escape the matrix.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { before, describe, it } from 'node:test'
import { promisify } from 'node:util'

import {
  BIN,
  JANE_DEVICES,
  JOHN_DEVICES,
  REQUEST_ID_RE,
  SANITIZED,
  SEED,
  assertOk,
  call,
  callRoute,
  createSession,
  revokeSession,
  sleep,
  uniqueKey,
  useServer,
} from './harness.mjs'
import { LOGINS, accountDevices, connectAccount, waitFor } from './webview_flow.mjs'

const EPOCH = '2000-01-01T00:00:00.000Z'
const AK1 = SEED.apiKey1
const AK2 = SEED.apiKey2
const PK1 = SEED.publishableKey1
const CST1 = SEED.cst1
/** Requests in flight at once. */
const IN_FLIGHT = 8
const REQUEST_MS = SANITIZED ? 60_000 : 20_000
/** The expired token's lifetime: long enough to see it work first. */
const EXPIRES_IN_MS = SANITIZED ? 8_000 : 3_000

const srv = useServer({ args: ['--action-delay-ms', '20'] })

/** Objects the setup creates (filled in by `before`). */
const F = {}
/** A noise threshold's times and level. */
const NEW_THRESHOLD = { starts_daily_at: '22:00:00', ends_daily_at: '06:00:00', noise_threshold_decibels: 70 }

/** A PIN no other code of the matrix has. */
let codeCount = 0
const nextCode = () => String(100000 + codeCount++)

// ---- how to call each route validly ----
//
// creds: the credentials shared/API.md gives the route (AK, CST, PK), which
//   `latchkey routes` must agree with.
// reach: what a valid call names or returns:
//   public     needs no credential: 200 whoever calls;
//   global     nobody's objects (200 for each credential the route allows);
//   create     makes a new object in the caller's workspace (or session);
//   list       lists what the caller may see;
//   john       names an object john's client session holds;
//   workspace  names a workspace-1 object that no session holds.
// params(column): the parameters, fresh for each request.
// notFound: the error type when the named object is out of the caller's reach.
// foreign: the answer to the other workspace's API key, when not 404 notFound.
// sees(): ids a 200 must contain for the own API key and john's token.
// creates: [key, id key] of the object a 200 makes.
// mutates: the named object changes (destructive routes name objects that
//   the setup made for the purpose).
const MATRIX = {
  '/health': { creds: '', reach: 'public', params: () => ({}) },
  '/workspaces/get': {
    creds: 'AK CST',
    reach: 'global',
    params: () => ({}),
    sees: () => [SEED.workspace1],
  },
  '/client_sessions/create': {
    creds: 'AK PK',
    reach: 'create',
    params: () => ({}), // a publishable key's user key comes in its header
    creates: ['client_session', 'client_session_id'],
  },
  '/client_sessions/get_or_create': {
    creds: 'AK PK',
    reach: 'create',
    params: () => ({}),
    creates: ['client_session', 'client_session_id'],
  },
  '/client_sessions/get': {
    creds: 'AK CST',
    reach: 'john',
    params: () => ({ client_session_id: SEED.session1 }),
    notFound: 'client_session_not_found',
    sees: () => [SEED.session1],
  },
  '/client_sessions/list': {
    creds: 'AK',
    reach: 'list',
    params: () => ({}),
    sees: () => [SEED.session1, F.janeUser.client_session_id],
  },
  '/client_sessions/grant_access': {
    creds: 'AK',
    reach: 'workspace',
    params: () => ({
      client_session_id: F.grantSession.client_session_id,
      connected_account_ids: [SEED.janeAccount],
    }),
    notFound: 'client_session_not_found',
    // The granted ids are checked first: outside the workspace they are
    // invalid input (as on create), whether or not the session exists.
    foreign: { status: 400, type: 'invalid_input' },
    sees: () => [F.grantSession.client_session_id, SEED.janeAccount],
    mutates: true,
  },
  '/client_sessions/revoke': {
    creds: 'AK',
    reach: 'workspace',
    params: () => ({ client_session_id: F.revokeSession.client_session_id }),
    notFound: 'client_session_not_found',
    mutates: true,
  },
  '/client_sessions/delete': {
    creds: 'AK',
    reach: 'workspace',
    params: () => ({ client_session_id: F.deleteSession.client_session_id }),
    notFound: 'client_session_not_found',
    mutates: true,
  },
  '/devices/get': {
    creds: 'AK CST',
    reach: 'john',
    params: () => ({ device_id: JOHN_DEVICES[0] }),
    notFound: 'device_not_found',
    sees: () => [JOHN_DEVICES[0]],
  },
  '/devices/list': {
    creds: 'AK CST',
    reach: 'list',
    params: () => ({}),
    sees: () => [...JOHN_DEVICES, ...F.john.devices],
  },
  '/devices/update': {
    creds: 'AK CST',
    reach: 'john',
    params: (col) => ({ device_id: F.john.d1, custom_metadata: { authz_matrix: col.name } }),
    notFound: 'device_not_found',
    mutates: true,
  },
  '/devices/delete': {
    creds: 'AK',
    reach: 'workspace',
    params: () => ({ device_id: F.deletable.d1 }),
    notFound: 'device_not_found',
    mutates: true,
  },
  '/devices/list_device_providers': { creds: 'AK CST', reach: 'global', params: () => ({}) },
  // An unmanaged device of john's, and one of the workspace's that the API
  // key makes managed again.
  '/devices/unmanaged/get': {
    creds: 'AK CST',
    reach: 'john',
    params: () => ({ device_id: F.johnUnmanaged }),
    notFound: 'device_not_found',
    sees: () => [F.johnUnmanaged],
  },
  '/devices/unmanaged/list': {
    creds: 'AK CST',
    reach: 'list',
    params: () => ({}),
    sees: () => [F.johnUnmanaged],
  },
  '/devices/unmanaged/update': {
    creds: 'AK',
    reach: 'workspace',
    params: () => ({ device_id: F.toManage, is_managed: true }),
    notFound: 'device_not_found',
    mutates: true,
  },
  '/locks/get': {
    creds: 'AK CST',
    reach: 'john',
    params: () => ({ device_id: JOHN_DEVICES[1] }),
    notFound: 'device_not_found',
    sees: () => [JOHN_DEVICES[1]],
  },
  '/locks/list': {
    creds: 'AK CST',
    reach: 'list',
    params: () => ({}),
    sees: () => [JOHN_DEVICES[0], JOHN_DEVICES[1], F.john.d1],
  },
  '/thermostats/get': {
    creds: 'AK CST',
    reach: 'john',
    params: () => ({ device_id: JOHN_DEVICES[2] }),
    notFound: 'device_not_found',
    sees: () => [JOHN_DEVICES[2]],
  },
  '/thermostats/list': {
    creds: 'AK CST',
    reach: 'list',
    params: () => ({}),
    sees: () => [JOHN_DEVICES[2]],
  },
  ...Object.fromEntries(
    [
      ['/thermostats/heat', { heating_set_point_celsius: 20 }],
      ['/thermostats/cool', { cooling_set_point_celsius: 25 }],
      ['/thermostats/heat_cool', {}],
      ['/thermostats/off', {}],
      ['/thermostats/set_hvac_mode', { hvac_mode_setting: 'heat' }],
      ['/thermostats/set_fan_mode', { fan_mode_setting: 'auto' }],
      ['/thermostats/set_temperature_threshold', { lower_limit_celsius: 12 }],
    ].map(([route, extra]) => [
      route,
      {
        creds: 'AK CST',
        reach: 'john',
        params: () => ({ device_id: JOHN_DEVICES[2], ...extra }),
        notFound: 'device_not_found',
        mutates: true,
      },
    ]),
  ),
  ...(() => {
    // Codes on john's fresh locks; the routes that change or delete a code
    // take a fresh one of a pool per allowed call, and the rest name one
    // that stays.
    const fresh = (pool, fixed) => (col) => ({ access_code_id: col.as === 'own' || col.as === 'john' ? F[pool].shift() : F[fixed] })
    const code = { creds: 'AK CST', reach: 'john', notFound: 'access_code_not_found' }
    return {
      '/access_codes/create': {
        creds: 'AK CST',
        reach: 'john',
        params: () => ({ device_id: F.john.d1, code: nextCode() }),
        notFound: 'device_not_found',
        creates: ['access_code', 'access_code_id'],
        mutates: true,
      },
      '/access_codes/create_multiple': {
        creds: 'AK CST',
        reach: 'john',
        params: () => ({ device_ids: [F.john.d1, F.john.d2] }),
        notFound: 'device_not_found',
        createdIds: (body) => body.access_codes.map((c) => c.access_code_id),
        mutates: true,
      },
      '/access_codes/get': { ...code, params: () => ({ access_code_id: F.code }), sees: () => [F.code] },
      '/access_codes/list': { creds: 'AK CST', reach: 'list', params: () => ({}), sees: () => [F.code] },
      '/access_codes/update': {
        ...code,
        params: (col) => ({ access_code_id: F.code, name: `Matrix ${col.name}`.slice(0, 60) }),
        mutates: true,
      },
      '/access_codes/update_multiple': {
        ...code,
        params: (col) => ({ common_code_key: F.group, name: `Matrix ${col.name}`.slice(0, 60) }),
        mutates: true,
      },
      '/access_codes/delete': { ...code, params: fresh('deleteCodes', 'code'), mutates: true },
      '/access_codes/generate_code': {
        creds: 'AK CST',
        reach: 'john',
        params: () => ({ device_id: F.john.d1 }),
        notFound: 'device_not_found',
      },
      '/access_codes/pull_backup_access_code': {
        ...code,
        params: () => ({ access_code_id: F.backupCode }),
        sees: () => [F.backupCode, F.backupSpare],
      },
      '/access_codes/unmanaged/list': {
        creds: 'AK CST',
        reach: 'john',
        params: () => ({ device_id: F.john.d2 }),
        notFound: 'device_not_found',
        sees: () => [F.unmanaged],
      },
      '/access_codes/unmanaged/get': { ...code, params: () => ({ access_code_id: F.unmanaged }), sees: () => [F.unmanaged] },
      '/access_codes/unmanaged/convert_to_managed': {
        ...code,
        params: fresh('toConvert', 'unmanaged'),
        mutates: true,
      },
      '/access_codes/unmanaged/update': {
        ...code,
        params: (col) => ({ ...fresh('toUpdate', 'unmanaged')(col), is_managed: true }),
        mutates: true,
      },
      '/access_codes/unmanaged/delete': { ...code, params: fresh('toRemove', 'unmanaged'), mutates: true },
      '/access_codes/simulate/create_unmanaged_access_code': {
        creds: 'AK',
        reach: 'john',
        params: () => ({ device_id: F.john.d2, name: 'Matrix', code: nextCode() }),
        notFound: 'device_not_found',
        creates: ['access_code', 'access_code_id'],
        mutates: true,
      },
      // Sandbox reachability, on a lock no session holds.
      ...Object.fromEntries(
        ['/devices/simulate/connect', '/devices/simulate/disconnect'].map((route) => [
          route,
          {
            creds: 'AK',
            reach: 'workspace',
            params: () => ({ device_id: F.deletable.d2 }),
            notFound: 'device_not_found',
            mutates: true,
          },
        ]),
      ),
    }
  })(),
  // Changes of the fixture's thermostat (its climate presets) and noise
  // sensor (its thresholds): each column creates and deletes its own
  // (F.presetToDelete, F.thresholdToDelete), the rest name the setup's
  // preset 'matrix' and threshold F.threshold.
  ...Object.fromEntries(
    [
      ['/thermostats/create_climate_preset', 2, (col) => ({ climate_preset_key: `matrix ${col.name}` })],
      ['/thermostats/update_climate_preset', 2, (col) => ({ climate_preset_key: 'matrix', name: col.name })],
      ['/thermostats/delete_climate_preset', 2, (col) => ({ climate_preset_key: F.presetToDelete[col.name] })],
      ['/thermostats/set_fallback_climate_preset', 2, () => ({ climate_preset_key: 'matrix' })],
      ['/thermostats/activate_climate_preset', 2, () => ({ climate_preset_key: 'matrix' })],
      ['/noise_sensors/noise_thresholds/create', 3, () => NEW_THRESHOLD],
      ['/noise_sensors/noise_thresholds/update', 3, (col) => ({ noise_threshold_id: F.threshold, name: col.name })],
      ['/noise_sensors/noise_thresholds/delete', 3, (col) => ({ noise_threshold_id: F.thresholdToDelete[col.name] })],
    ].map(([route, device, extra]) => [
      route,
      {
        creds: 'AK CST',
        reach: 'john',
        params: (col) => ({ device_id: JOHN_DEVICES[device], ...extra(col) }),
        notFound: 'device_not_found',
        mutates: true,
      },
    ]),
  ),
  '/noise_sensors/noise_thresholds/list': {
    creds: 'AK CST',
    reach: 'john',
    params: () => ({ device_id: JOHN_DEVICES[3] }),
    notFound: 'device_not_found',
    sees: () => [F.threshold],
  },
  '/noise_sensors/noise_thresholds/get': {
    creds: 'AK CST',
    reach: 'john',
    params: () => ({ noise_threshold_id: F.threshold }),
    notFound: 'noise_threshold_not_found',
    sees: () => [F.threshold],
  },
  '/locks/lock_door': {
    creds: 'AK CST',
    reach: 'john',
    params: () => ({ device_id: F.john.d1 }),
    notFound: 'device_not_found',
    mutates: true,
  },
  '/locks/unlock_door': {
    creds: 'AK CST',
    reach: 'john',
    params: () => ({ device_id: F.john.d2 }),
    notFound: 'device_not_found',
    mutates: true,
  },
  '/action_attempts/get': {
    creds: 'AK CST',
    reach: 'john',
    params: () => ({ action_attempt_id: F.attempt }),
    notFound: 'action_attempt_not_found',
    sees: () => [F.attempt],
  },
  '/action_attempts/list': {
    creds: 'AK',
    reach: 'list',
    params: () => ({}),
    sees: () => [F.attempt],
  },
  '/events/get': {
    creds: 'AK CST',
    reach: 'john',
    params: () => ({ event_id: F.event }),
    notFound: 'event_not_found',
    sees: () => [F.event],
  },
  '/events/list': {
    creds: 'AK CST',
    reach: 'list',
    params: () => ({ since: EPOCH }),
    sees: () => [F.event],
  },
  '/connected_accounts/get': {
    creds: 'AK CST',
    reach: 'john',
    params: () => ({ connected_account_id: SEED.johnAccount }),
    notFound: 'connected_account_not_found',
    sees: () => [SEED.johnAccount],
  },
  '/connected_accounts/list': {
    creds: 'AK',
    reach: 'list',
    params: () => ({}),
    sees: () => [SEED.johnAccount, SEED.janeAccount],
  },
  '/connected_accounts/update': {
    creds: 'AK',
    reach: 'workspace',
    params: (col) => ({
      connected_account_id: F.deletable.account,
      custom_metadata: { authz_matrix: col.name },
    }),
    notFound: 'connected_account_not_found',
    mutates: true,
  },
  '/connected_accounts/delete': {
    creds: 'AK',
    reach: 'workspace',
    params: () => ({ connected_account_id: F.removable.account }),
    notFound: 'connected_account_not_found',
    mutates: true,
  },
  '/connect_webviews/create': {
    creds: 'AK CST',
    reach: 'create',
    params: () => ({ accepted_providers: ['august'] }),
    creates: ['connect_webview', 'connect_webview_id'],
  },
  '/connect_webviews/get': {
    creds: 'AK CST',
    reach: 'john',
    params: () => ({ connect_webview_id: SEED.webview1 }),
    notFound: 'connect_webview_not_found',
    sees: () => [SEED.webview1],
  },
  '/connect_webviews/list': {
    creds: 'AK CST',
    reach: 'list',
    params: () => ({}),
    sees: () => [SEED.webview1, F.john.webview],
  },
  '/connect_webviews/delete': {
    creds: 'AK',
    reach: 'workspace',
    params: () => ({ connect_webview_id: F.webviewToDelete.connect_webview_id }),
    notFound: 'connect_webview_not_found',
    mutates: true,
  },
  '/user_identities/create': {
    creds: 'AK',
    reach: 'create',
    params: () => ({ user_identity_key: uniqueKey('matrix_identity'), full_name: 'Matrix Identity' }),
    creates: ['user_identity', 'user_identity_id'],
  },
  '/user_identities/get': {
    creds: 'AK',
    reach: 'workspace',
    params: () => ({ user_identity_id: SEED.johnIdentity }),
    notFound: 'user_identity_not_found',
    sees: () => [SEED.johnIdentity],
  },
  '/user_identities/list': {
    creds: 'AK',
    reach: 'list',
    params: () => ({}),
    sees: () => [SEED.johnIdentity],
  },
  '/user_identities/update': {
    creds: 'AK',
    reach: 'workspace',
    params: (col) => ({
      user_identity_id: F.identityToUpdate.user_identity_id,
      full_name: `Matrix ${col.name}`,
    }),
    notFound: 'user_identity_not_found',
    mutates: true,
  },
  '/user_identities/delete': {
    creds: 'AK',
    reach: 'workspace',
    params: () => ({ user_identity_id: F.identityToDelete.user_identity_id }),
    notFound: 'user_identity_not_found',
    mutates: true,
  },
  // The connect webview's page: its own secret (auth_token) in the URL is
  // what lets one in; credentials play no part.
  '/connect_webviews/view': { creds: '', reach: 'public', page: true, params: () => F.pageQuery },
}

const KIND_OF = { AK: 'api_key', CST: 'client_session', PK: 'publishable_key' }
const documentedKinds = (entry) => entry.creds.split(/\s+/).filter(Boolean).map((c) => KIND_OF[c])

// ---- the credentials ----

/** Credential headers and the kinds each one takes (shared/API.md). */
const HEADERS = {
  authorization: ['api_key', 'client_session'],
  'client-session-token': ['client_session'],
  'seam-client-session-token': ['client_session'],
  'seam-publishable-key': ['publishable_key'],
}
const HEADER_LABEL = { authorization: 'Authorization: Bearer' }
const headerLabel = (h) => HEADER_LABEL[h] ?? h
const place = (header, value) =>
  header === 'authorization' ? { authorization: `Bearer ${value}` } : { [header]: value }

// Columns. kind: the credential's kind when it is accepted (none: every
// authenticated route answers 401 `type`, or `dead`); as: whose view it is
// (own: workspace 1's API key, foreign: workspace 2's, john, other: another
// user of workspace 1); phase 'header': a credential in a header that does
// not take its kind; placement: [kind, header] it stands for.
const CREDENTIALS = [
  {
    name: 'own API key',
    kind: 'api_key',
    as: 'own',
    placement: ['api_key', 'authorization'],
    headers: () => place('authorization', AK1),
  },
  { name: "other workspace's API key", kind: 'api_key', as: 'foreign', headers: () => place('authorization', AK2) },
  ...['authorization', 'client-session-token', 'seam-client-session-token'].map((h) => ({
    name: `john's client session token (${headerLabel(h)})`,
    kind: 'client_session',
    as: 'john',
    placement: ['client_session', h],
    headers: () => place(h, CST1),
  })),
  {
    name: "another user's token, holding nothing",
    kind: 'client_session',
    as: 'other',
    session: () => F.emptyUser,
    headers: () => place('authorization', F.emptyUser.token),
  },
  {
    name: "another user's token, holding jane's account",
    kind: 'client_session',
    as: 'other',
    session: () => F.janeUser,
    own: () => [...JANE_DEVICES, SEED.janeAccount, F.janeCode],
    headers: () => place('authorization', F.janeUser.token),
  },
  { name: 'expired token', dead: 'client_session_expired', headers: () => place('authorization', F.expired.token) },
  { name: 'revoked token', dead: 'client_session_revoked', headers: () => place('authorization', F.revoked.token) },
  {
    name: "deleted session's token",
    dead: 'client_session_not_found',
    headers: () => place('authorization', F.deleted.token),
  },
  {
    name: 'publishable key with a user key',
    kind: 'publishable_key',
    userKey: true,
    placement: ['publishable_key', 'seam-publishable-key'],
    headers: () => ({ 'seam-publishable-key': PK1, 'seam-user-identifier-key': uniqueKey('pk_user') }),
  },
  {
    name: 'publishable key without a user key',
    kind: 'publishable_key',
    headers: () => ({ 'seam-publishable-key': PK1 }),
  },
  // Each credential in each header that does not take its kind. The
  // publishable key keeps its user key, so that only the header is wrong.
  ...[
    ['api_key', 'API key', () => AK1],
    ['client_session', "john's client session token", () => CST1],
    ['publishable_key', 'publishable key', () => PK1],
  ].flatMap(([kind, what, value]) =>
    Object.entries(HEADERS)
      .filter(([, kinds]) => !kinds.includes(kind))
      .map(([h]) => ({
        name: `${what} in ${headerLabel(h)}`,
        phase: 'header',
        type: 'unauthorized',
        placement: [kind, h],
        headers: () => ({
          ...place(h, value()),
          ...(kind === 'publishable_key' ? { 'seam-user-identifier-key': uniqueKey('pk_user') } : {}),
        }),
      })),
  ),
  { name: 'malformed: seam_garbage', headers: () => place('authorization', 'seam_garbage') },
  { name: 'malformed: xyz', headers: () => place('authorization', 'xyz') },
  {
    name: 'malformed: 5000 characters',
    headers: () => place('authorization', `seam_cst1_${'x'.repeat(4990)}`),
  },
  {
    name: 'empty credential headers',
    type: 'unauthorized',
    headers: () => Object.fromEntries(Object.keys(HEADERS).map((h) => [h, ''])),
  },
  { name: 'no credential', type: 'unauthorized', headers: () => ({}) },
]

/** What `col` calling `route` validly must get: { status, type?, sees?, page? }. */
function expectation(col, route, entry) {
  if (route.credentials.length === 0) return { status: 200, page: route.page }
  if (col.dead) return { status: 401, type: col.dead }
  if (!col.kind) return { status: 401, type: col.type }
  if (!route.credentials.includes(col.kind)) return { status: 403, type: 'forbidden' }
  if (col.kind === 'publishable_key') {
    return col.userKey ? { status: 200 } : { status: 400, type: 'missing_user_identifier_key' }
  }
  const named = entry.reach === 'john' || entry.reach === 'workspace'
  const notFound = { status: 404, type: entry.notFound }
  switch (col.as) {
    case 'own':
      return { status: 200, sees: true }
    case 'john':
      return entry.reach === 'workspace' ? notFound : { status: 200, sees: true }
    case 'foreign':
      return named ? (entry.foreign ?? notFound) : { status: 200 }
    default:
      return named ? notFound : { status: 200 }
  }
}

// ---- running checks ----

async function inPool(items, size, fn) {
  let next = 0
  const worker = async () => {
    while (next < items.length) await fn(items[next++])
  }
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker))
}

/** Ids (of `ids`) in a response that the request did not name itself. */
const leakedIds = (text, ids, requestText) =>
  [...ids].filter((id) => text.includes(id) && !requestText.includes(id))

/** The problems of one response against its expectation (empty: as expected). */
function problemsOf(res, exp, check) {
  const p = []
  const typeText = exp.type ? ` ${exp.type}` : ''
  if (res.status !== exp.status) p.push(`expected ${exp.status}${typeText}, got ${res.status}`)
  if (!REQUEST_ID_RE.test(res.requestId ?? '')) p.push('no seam-request-id header')
  const contentType = res.headers.get('content-type') ?? ''
  if (exp.page) {
    if (!contentType.startsWith('text/html')) p.push(`content-type ${contentType}, expected text/html`)
  } else if (!contentType.startsWith('application/json')) {
    p.push(`content-type ${contentType}, expected application/json`)
  } else if (res.status >= 200 && res.status < 300) {
    if (res.body?.ok !== true) p.push('ok is not true')
  } else {
    // {"error": {"type", "message"}, "ok": false}, nothing else
    const b = res.body
    const keys = b && typeof b === 'object' ? Object.keys(b).sort().join(',') : typeof b
    if (keys !== 'error,ok') p.push(`error body keys: ${keys}`)
    if (b?.ok !== false) p.push('ok is not false')
    if (typeof b?.error?.type !== 'string') p.push('error.type is not a string')
    if (typeof b?.error?.message !== 'string' || !b.error.message) p.push('error.message is not a non-empty string')
    if (res.status === exp.status && exp.type && b?.error?.type !== exp.type) {
      p.push(`error type ${b?.error?.type}, expected ${exp.type}`)
    }
  }
  if (exp.sees && res.status === exp.status && check.entry.sees) {
    const missing = check.entry.sees().filter((id) => !res.text.includes(id))
    if (missing.length) p.push(`does not show ${missing.join(', ')}`)
  }
  const leaked = leakedIds(res.text, check.forbidden, check.requestText)
  if (leaked.length) p.push(`shows ${leaked.join(', ')}, which this credential may not see`)
  if (p.length) p.push(`response: ${res.text.slice(0, 400)}`)
  return p
}

async function runCheck(check, created) {
  const { col, route, entry } = check
  const method = route.methods[0]
  const params = entry.params(col)
  const headers = col.headers()
  check.requestText = JSON.stringify({ params, headers })
  let res
  try {
    res = await callRoute(srv, method, route.path, params, { headers, timeoutMs: REQUEST_MS })
  } catch (err) {
    check.problems = [`${method} ${route.path} failed: ${err.message}`]
    return
  }
  check.problems = problemsOf(res, check.expected, check)
  // Objects the allowed checks create in workspace 1 are the matrix's own.
  if (entry.creates && res.status === 200 && check.phase === 'allowed' && col.as !== 'foreign') {
    const [key, idKey] = entry.creates
    const id = res.body?.[key]?.[idKey]
    if (id) created.add(id)
  }
  if (entry.createdIds && res.status === 200 && check.phase === 'allowed' && col.as !== 'foreign') {
    for (const id of entry.createdIds(res.body)) created.add(id)
  }
}

// ---- snapshots (read with the API key) ----

const SNAPSHOT_LISTS = [
  ['device', '/devices/list', 'devices', 'device_id'],
  ['connected account', '/connected_accounts/list', 'connected_accounts', 'connected_account_id'],
  ['client session', '/client_sessions/list', 'client_sessions', 'client_session_id'],
  ['connect webview', '/connect_webviews/list', 'connect_webviews', 'connect_webview_id'],
  ['user identity', '/user_identities/list', 'user_identities', 'user_identity_id'],
  ['access code', '/access_codes/list', 'access_codes', 'access_code_id'],
]

/** Workspace 1's objects by "<kind> <id>", and the devices john's token sees. */
async function snapshot() {
  const objects = new Map()
  for (const [kind, route, key, idKey] of SNAPSHOT_LISTS) {
    const body = assertOk(await call(srv, route, { method: 'GET', token: AK1 }), key)
    assert.notEqual(body.pagination?.has_next_page, true, `${route} has more than one page`)
    for (const o of body[key]) objects.set(`${kind} ${o[idKey]}`, { id: o[idKey], value: o })
  }
  const johns = assertOk(await call(srv, '/devices/list', { method: 'GET', token: CST1 }), 'devices')
  objects.set("devices john's token sees", { id: null, value: johns.devices.map((d) => d.device_id).sort() })
  return objects
}

/**
 * What differs between two snapshots, but for the objects in `mutable`, the
 * objects in `created` (and their ids added to lists of ids).
 */
function changes(earlier, later, { mutable = new Set(), created = new Set() } = {}) {
  const norm = (v) => {
    if (Array.isArray(v)) return v.filter((x) => !(typeof x === 'string' && created.has(x))).map(norm)
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]))
    return v
  }
  const out = []
  for (const [key, { id, value }] of earlier) {
    if (id && mutable.has(id)) continue
    if (!later.has(key)) {
      out.push(`${key} disappeared`)
      continue
    }
    const a = norm(value)
    const b = norm(later.get(key).value)
    if (JSON.stringify(a) === JSON.stringify(b)) continue
    if (Array.isArray(a) || !a || typeof a !== 'object') {
      out.push(`${key}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`)
      continue
    }
    for (const field of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (JSON.stringify(a[field]) !== JSON.stringify(b[field])) {
        out.push(`${key}: ${field} ${JSON.stringify(a[field])} -> ${JSON.stringify(b[field])}`)
      }
    }
  }
  for (const [key, { id }] of later) {
    if (!earlier.has(key) && !(id && (created.has(id) || mutable.has(id)))) out.push(`${key} appeared`)
  }
  return out
}

// ---- setup ----

const ok = (res, key) => assertOk(res, key)
const get = (route, token, query) => call(srv, route, { method: 'GET', token, query })
const post = (route, token, body) => call(srv, route, { token, body })

/** A connected account with its devices, through a webview `token` creates. */
async function freshAccount(token, provider, username) {
  const { connected_account_id: account, connect_webview_id: webview } = await connectAccount(srv, token, {
    provider,
    username,
  })
  const devices = (await accountDevices(srv, AK1, account)).map((d) => d.device_id)
  assert.ok(devices.length >= 2, `${provider} ${username} brings at least two devices`)
  return { account, webview, devices, d1: devices[0], d2: devices[1] }
}

/** A session that holds john's account, shown to work before it is killed. */
async function sessionHoldingJohns(label, extra = {}) {
  const s = await createSession(
    srv,
    AK1,
    { connected_account_ids: [SEED.johnAccount], connect_webview_ids: [SEED.webview1], ...extra },
    { label },
  )
  ok(await get('/devices/get', s.token, { device_id: JOHN_DEVICES[0] }), 'device')
  return s
}

const newIdentity = async (label) =>
  ok(
    await post('/user_identities/create', AK1, { user_identity_key: uniqueKey(label), full_name: label }),
    'user_identity',
  ).user_identity

const newWebview = async () =>
  ok(await post('/connect_webviews/create', AK1, { accepted_providers: ['august'] }), 'connect_webview')
    .connect_webview

/** Waits until no action attempt of workspace 1 is pending. */
const actionsSettled = () =>
  waitFor(
    async () => {
      const { action_attempts } = ok(await get('/action_attempts/list', AK1, {}), 'action_attempts')
      return action_attempts.every((a) => a.status !== 'pending')
    },
    { ms: SANITIZED ? 60_000 : 20_000, what: 'pending action attempts to finish' },
  )

const sessionIds = (s) => [s.client_session_id, s.token, s.user_identifier_key].filter(Boolean)

let ROUTES = []
const CHECKS = []
const RESULT = {}

describe('authorization matrix', () => {
  before(
    async () => {
      const { stdout } = await promisify(execFile)(BIN, ['routes'], { timeout: REQUEST_MS })
      ROUTES = JSON.parse(stdout)

      // Tokens that no longer work, each shown working first. The expired
      // one's lifetime runs out while the rest is set up.
      const expiresAt = Date.now() + EXPIRES_IN_MS
      F.expired = await sessionHoldingJohns('expired', { expires_at: new Date(expiresAt).toISOString() })
      F.revoked = await sessionHoldingJohns('revoked')
      await revokeSession(srv, AK1, F.revoked.client_session_id)
      F.deleted = await sessionHoldingJohns('deleted')
      ok(await post('/client_sessions/delete', AK1, { client_session_id: F.deleted.client_session_id }))

      // Other users of workspace 1.
      F.emptyUser = await createSession(srv, AK1, {}, { label: 'empty_user' })
      F.janeUser = await createSession(srv, AK1, { connected_account_ids: [SEED.janeAccount] }, { label: 'jane_user' })

      // John's own fresh account (his token creates the webview, so his
      // session holds it): its locks are the ones the matrix acts on and updates.
      F.john = await freshAccount(CST1, 'august', LOGINS.jane)
      const attempt = ok(await post('/locks/lock_door', CST1, { device_id: F.john.d1, sync: true }), 'action_attempt')
        .action_attempt
      assert.equal(attempt.status, 'success', `john's own lock: ${JSON.stringify(attempt)}`)
      F.attempt = attempt.action_attempt_id
      // Another account of john's, with one of its devices unmanaged.
      F.johnsOther = await freshAccount(CST1, 'august', LOGINS.offline)
      F.johnUnmanaged = F.johnsOther.d1
      ok(await post('/devices/update', AK1, { device_id: F.johnUnmanaged, is_managed: false }))
      const johnsAccounts = [SEED.johnAccount, F.john.account, F.johnsOther.account]
      const johnsDevices = [...JOHN_DEVICES, ...F.john.devices, ...F.johnsOther.devices]
      const johnsEvents = ok(await get('/events/list', CST1, { since: EPOCH }), 'events').events.filter(
        (e) => johnsAccounts.includes(e.connected_account_id) || johnsDevices.includes(e.device_id),
      )
      assert.ok(johnsEvents.length > 0, "john's token sees events of his own")
      F.event = johnsEvents[0].event_id

      // Access codes: john's on his fresh locks, and one on jane's lock.
      const newCode = async (device_id, extra = {}) =>
        ok(await post('/access_codes/create', AK1, { device_id, code: nextCode(), ...extra }), 'access_code')
          .access_code.access_code_id
      const newUnmanaged = async () =>
        ok(
          await post('/access_codes/simulate/create_unmanaged_access_code', AK1, {
            device_id: F.john.d2,
            name: 'Found on the lock',
            code: nextCode(),
          }),
          'access_code',
        ).access_code.access_code_id
      const pool = (n, make) => Promise.all(Array.from({ length: n }, make))
      F.code = await newCode(F.john.d1)
      F.janeCode = await newCode(JANE_DEVICES[0])
      const group = ok(
        await post('/access_codes/create_multiple', AK1, { device_ids: [F.john.d1, F.john.d2] }),
        'access_codes',
      ).access_codes
      F.group = group[0].common_code_key
      const now = Date.now()
      F.backupCode = await newCode(F.john.d1, {
        starts_at: new Date(now).toISOString(),
        ends_at: new Date(now + 3_600_000).toISOString(),
        use_backup_access_code_pool: true,
      })
      const pulled = await waitFor(
        async () => {
          const res = await post('/access_codes/pull_backup_access_code', AK1, { access_code_id: F.backupCode })
          return res.status === 200 && res.body
        },
        { ms: REQUEST_MS, what: 'a spare code on the lock' },
      )
      F.backupSpare = pulled.backup_access_code.access_code_id
      F.deleteCodes = await pool(6, () => newCode(F.john.d2))
      F.unmanaged = await newUnmanaged()
      F.toConvert = await pool(6, newUnmanaged)
      F.toUpdate = await pool(6, newUnmanaged)
      F.toRemove = await pool(6, newUnmanaged)
      const johnsCodes = [
        F.code,
        ...group.map((c) => c.access_code_id),
        F.backupCode,
        F.backupSpare,
        ...F.deleteCodes,
        F.unmanaged,
        ...F.toConvert,
        ...F.toUpdate,
        ...F.toRemove,
      ]

      // Workspace-1 objects no session holds, for the destructive routes.
      // devices/delete, connected_accounts/update, devices/unmanaged/update
      F.deletable = await freshAccount(AK1, 'schlage', LOGINS.john)
      F.toManage = F.deletable.devices[2]
      ok(await post('/devices/update', AK1, { device_id: F.toManage, is_managed: false }))
      F.removable = await freshAccount(AK1, 'schlage', LOGINS.offline) // connected_accounts/delete
      F.grantSession = await createSession(srv, AK1, {}, { label: 'grant' })
      F.revokeSession = await createSession(srv, AK1, {}, { label: 'revoke' })
      F.deleteSession = await createSession(srv, AK1, {}, { label: 'delete' })
      F.webviewToDelete = await newWebview()
      const pageWebview = await newWebview()
      F.pageQuery = Object.fromEntries(new URL(pageWebview.url).searchParams)
      F.identityToUpdate = await newIdentity('identity_update')
      F.identityToDelete = await newIdentity('identity_delete')

      // The thermostat's presets and the sensor's thresholds the routes name.
      const preset = async (key) =>
        ok(await post('/thermostats/create_climate_preset', AK1, { device_id: JOHN_DEVICES[2], climate_preset_key: key, hvac_mode_setting: 'off' }))
      const threshold = async () =>
        ok(await post('/noise_sensors/noise_thresholds/create', AK1, { device_id: JOHN_DEVICES[3], ...NEW_THRESHOLD }), 'noise_threshold')
          .noise_threshold.noise_threshold_id
      await preset('matrix')
      F.threshold = await threshold()
      F.presetToDelete = {}
      F.thresholdToDelete = {}
      for (const col of CREDENTIALS) {
        F.presetToDelete[col.name] = `matrix delete ${col.name}`
        await preset(F.presetToDelete[col.name])
        F.thresholdToDelete[col.name] = await threshold()
      }

      // Who may see what.
      const johnOwn = new Set([
        ...johnsDevices,
        ...johnsAccounts,
        SEED.webview1,
        F.john.webview,
        F.johnsOther.webview,
        SEED.session1,
        CST1,
        SEED.johnKey,
        SEED.johnIdentity,
        F.attempt,
        ...johnsEvents.map((e) => e.event_id),
        ...johnsCodes,
        F.threshold,
        ...Object.values(F.thresholdToDelete),
      ])
      const objects = new Set([
        ...johnOwn,
        ...JANE_DEVICES,
        SEED.janeAccount,
        F.janeCode,
        ...[F.deletable, F.removable].flatMap((a) => [a.account, a.webview, ...a.devices]),
        ...[F.expired, F.revoked, F.deleted, F.emptyUser, F.janeUser].flatMap(sessionIds),
        ...[F.grantSession, F.revokeSession, F.deleteSession].flatMap(sessionIds),
        F.webviewToDelete.connect_webview_id,
        pageWebview.connect_webview_id,
        F.pageQuery.auth_token,
        ...[F.identityToUpdate, F.identityToDelete].flatMap((i) => [i.user_identity_id, i.user_identity_key]),
      ])
      const workspace1 = new Set([...objects, SEED.workspace1, PK1])
      const workspace2 = new Set([SEED.workspace2, 'seam_pk2_token'])
      const minus = (set, keep) => new Set([...set].filter((id) => !keep.includes(id)))
      const forbidden = (col, route) => {
        if (route.credentials.length === 0 || !col.kind) return new Set([...workspace1, ...workspace2])
        switch (col.as) {
          case 'own':
            return workspace2
          case 'foreign':
            return workspace1
          case 'john':
            return new Set([...minus(objects, [...johnOwn]), ...workspace2])
          case 'other':
            return new Set([
              ...minus(objects, [...sessionIds(col.session()), ...(col.own?.() ?? [])]),
              ...workspace2,
            ])
          default: // publishable key: a new, empty session at most
            return new Set([...objects, ...workspace2])
        }
      }
      // Mutable: the objects the destructive routes name (and what goes with them).
      const mutable = new Set([
        ...F.john.devices,
        JOHN_DEVICES[2], // the fixture's thermostat, which the climate actions change
        F.deletable.account,
        ...F.deletable.devices,
        F.removable.account,
        F.removable.webview, // its connected_account_id goes with the account
        ...F.removable.devices,
        F.grantSession.client_session_id,
        F.revokeSession.client_session_id,
        F.deleteSession.client_session_id,
        F.webviewToDelete.connect_webview_id,
        F.identityToUpdate.user_identity_id,
        F.identityToDelete.user_identity_id,
        ...johnsCodes, // the allowed checks update, convert and delete them
      ])

      // The plan: denied checks first (so that every object they name still
      // exists), then the allowed ones, then the credentials in wrong headers.
      for (const route of ROUTES) {
        const entry = MATRIX[route.path]
        if (!entry) continue // fails 'every route has a matrix entry'
        for (const col of CREDENTIALS) {
          const expected = expectation(col, route, entry)
          const phase = col.phase === 'header' ? 'header' : expected.status < 300 ? 'allowed' : 'denied'
          CHECKS.push({ col, route, entry, expected, phase, forbidden: forbidden(col, route), problems: null })
        }
      }

      // The expired token's lifetime must be over.
      await sleep(Math.max(0, expiresAt - Date.now() + 250))

      const created = new Set()
      const started = Date.now()
      const phase = (name) => inPool(CHECKS.filter((c) => c.phase === name), IN_FLIGHT, (c) => runCheck(c, created))
      RESULT.s0 = await snapshot()
      await phase('denied')
      RESULT.s1 = await snapshot()
      await phase('allowed')
      await actionsSettled()
      RESULT.s2 = await snapshot()
      await phase('header')
      await actionsSettled()
      RESULT.s3 = await snapshot()
      RESULT.created = created
      RESULT.mutable = mutable
      RESULT.ms = Date.now() - started
    },
    { timeout: SANITIZED ? 280_000 : 120_000 },
  )

  it('every route that `latchkey routes` prints has a matrix entry', () => {
    assert.ok(ROUTES.length > 0, '`latchkey routes` printed no routes')
    const missing = ROUTES.filter((r) => !MATRIX[r.path]).map((r) => `route ${r.path} has no authorization-matrix entry`)
    assert.deepEqual(missing, [], missing.join('\n'))
  })

  it('every matrix entry is a route of the server', () => {
    const paths = new Set(ROUTES.map((r) => r.path))
    const stale = Object.keys(MATRIX).filter((p) => !paths.has(p))
    assert.deepEqual(stale, [], `matrix entries for routes the server does not have: ${stale.join(', ')}`)
  })

  it('the route table gives each route the credentials shared/API.md documents', () => {
    const wrong = []
    for (const route of ROUTES) {
      const entry = MATRIX[route.path]
      if (!entry) continue
      const documented = documentedKinds(entry).sort()
      if (JSON.stringify([...route.credentials].sort()) !== JSON.stringify(documented)) {
        wrong.push(`${route.path}: routes says [${route.credentials}], documented [${documented}]`)
      }
      if ((route.credentials.length === 0) !== (entry.reach === 'public')) {
        wrong.push(`${route.path}: needs no credential only if the matrix calls it public`)
      }
      if (Boolean(route.page) !== Boolean(entry.page)) wrong.push(`${route.path}: page is ${route.page}`)
      if (!route.methods.length) wrong.push(`${route.path}: no methods`)
    }
    assert.deepEqual(wrong, [], wrong.join('\n'))
  })

  it('each credential kind is tried in each of the four credential headers', () => {
    const placed = new Set(CREDENTIALS.filter((c) => c.placement).map((c) => c.placement.join(' in ')))
    for (const kind of Object.values(KIND_OF)) {
      for (const h of Object.keys(HEADERS)) assert.ok(placed.has(`${kind} in ${h}`), `${kind} in ${h}`)
    }
  })

  for (const col of CREDENTIALS) {
    it(col.name, () => {
      const mine = CHECKS.filter((c) => c.col === col)
      assert.ok(mine.length > 0, 'no checks ran')
      const failed = mine.filter((c) => c.problems === null || c.problems.length > 0)
      const report = failed.map(
        (c) => `${c.route.methods[0]} ${c.route.path}: ${(c.problems ?? ['not run']).join('; ')}`,
      )
      assert.equal(failed.length, 0, `${failed.length} of ${mine.length} routes:\n${report.join('\n')}`)
    })
  }

  it('the denied checks changed nothing', () => {
    const diff = changes(RESULT.s0, RESULT.s1)
    assert.deepEqual(diff, [], diff.join('\n'))
  })

  it("the allowed checks changed only the matrix's own objects", () => {
    const diff = changes(RESULT.s1, RESULT.s2, { mutable: RESULT.mutable, created: RESULT.created })
    assert.deepEqual(diff, [], diff.join('\n'))
    // The updates that took were those of credentials allowed to make them.
    const allowed = new Set(CHECKS.filter((c) => c.phase === 'allowed').map((c) => c.col.name))
    const device = RESULT.s2.get(`device ${F.john.d1}`)?.value
    assert.ok(allowed.has(device?.custom_metadata?.authz_matrix), `devices/update by ${device?.custom_metadata?.authz_matrix}`)
    const account = RESULT.s2.get(`connected account ${F.deletable.account}`)?.value
    assert.ok(allowed.has(account?.custom_metadata?.authz_matrix), `connected_accounts/update by ${account?.custom_metadata?.authz_matrix}`)
    const identity = RESULT.s2.get(`user identity ${F.identityToUpdate.user_identity_id}`)?.value
    assert.ok(allowed.has(identity?.full_name?.replace(/^Matrix /, '')), `user_identities/update by ${identity?.full_name}`)
    for (const [what, key] of [
      ['deleted device', `device ${F.deletable.d1}`],
      ['deleted account', `connected account ${F.removable.account}`],
      ['deleted session', `client session ${F.deleteSession.client_session_id}`],
      ['deleted webview', `connect webview ${F.webviewToDelete.connect_webview_id}`],
      ['deleted identity', `user identity ${F.identityToDelete.user_identity_id}`],
    ]) {
      assert.ok(RESULT.s1.has(key) && !RESULT.s2.has(key), `the ${what} is gone after, not before`)
    }
    const managed = `device ${F.toManage}`
    assert.ok(!RESULT.s1.has(managed) && RESULT.s2.has(managed), 'the unmanaged device is listed after, not before')
  })

  it('the credentials in wrong headers changed nothing', () => {
    const diff = changes(RESULT.s2, RESULT.s3)
    assert.deepEqual(diff, [], diff.join('\n'))
  })

  it('counts: every route with an entry x every credential', (t) => {
    const routes = new Set(CHECKS.map((c) => c.route.path)).size
    t.diagnostic(
      `authorization matrix: ${routes} routes x ${CREDENTIALS.length} credentials = ${CHECKS.length} checks` +
        ` (${RESULT.ms} ms)`,
    )
    assert.equal(CHECKS.length, routes * CREDENTIALS.length)
    assert.ok(CHECKS.every((c) => c.problems !== null), 'every check ran')
  })
})
