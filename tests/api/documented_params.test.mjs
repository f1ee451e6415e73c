// Walks Seam's OpenAPI (@seamapi/types): for every route latchkey serves,
// every parameter the OpenAPI documents for it is accepted, alone, with a
// value of its documented type (no "Unrecognized key"; the call may still
// fail for other reasons, such as a missing required parameter or an id
// that does not exist). The API key is the workspace's; routes that take
// only a client session are called with one. STILL_REFUSED lists what is
// not done yet.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { describe, it } from 'node:test'

import { openapi } from '@seamapi/types/connect'

import { BIN, SEED, call, useServer } from './harness.mjs'

const srv = useServer()

const ROUTES = JSON.parse(execFileSync(BIN, ['routes'], { encoding: 'utf8' })).filter(
  (r) => !r.page && openapi.paths[r.path],
)

/** Resolves a $ref of the OpenAPI. */
const deref = (s) =>
  s?.$ref ? s.$ref.split('/').slice(1).reduce((o, k) => o[k], openapi) : s

/** A value of the schema's type. */
function sample(schema, name) {
  const s = deref(schema) ?? {}
  const alt = s.oneOf ?? s.anyOf
  if (alt) return sample(alt.find((x) => deref(x)?.type !== 'null') ?? alt[0], name)
  if (s.enum) return s.enum.find((v) => v !== null)
  switch (s.type) {
    case 'boolean':
      return false
    case 'integer':
    case 'number':
      return Math.max(1, s.minimum ?? 1)
    case 'array':
      return []
    case 'object':
      return {}
    default:
      if (s.format === 'date-time' || /_at$|^since$|before$|after$/.test(name)) return '2026-01-01T00:00:00.000Z'
      if (s.format === 'uuid') return '00000000-0000-4000-8000-000000000000'
      return 'x'
  }
}

/** Every documented parameter of the route's operation: name -> schema. */
function documented(path) {
  const item = openapi.paths[path]
  const op = item.post ?? item.get
  const params = new Map()
  const body = deref(op.requestBody?.content?.['application/json']?.schema)
  for (const variant of [body, ...(body?.oneOf ?? body?.anyOf ?? []).map(deref)]) {
    for (const [k, v] of Object.entries(variant?.properties ?? {})) if (!params.has(k)) params.set(k, v)
  }
  for (const p of op.parameters ?? []) if (!params.has(p.name)) params.set(p.name, p.schema)
  return params
}

/**
 * Documented parameters still refused, by route: none now. The test fails
 * when a route refuses one (a new route, or a new version of the OpenAPI).
 */
const STILL_REFUSED = {}

const unrecognized = (res) =>
  res.status === 400 && /Unrecognized key/.test(JSON.stringify(res.body?.error ?? {}))

describe('every documented parameter of every served route is accepted', () => {
  for (const route of ROUTES) {
    const params = documented(route.path)
    if (params.size === 0) continue
    it(route.path, async () => {
      const apiKeyAllowed = route.credentials?.includes?.('api_key') ?? true
      const token = apiKeyAllowed ? SEED.apiKey1 : SEED.cst1
      const refused = []
      for (const [name, schema] of params) {
        const res = await call(srv, route.path, { token, body: { [name]: sample(schema, name) } })
        if (unrecognized(res)) refused.push(name)
        assert.ok(res.status < 500, `${route.path} ${name}: ${res.status} ${res.text}`)
      }
      assert.deepEqual(refused, STILL_REFUSED[route.path] ?? [], `${route.path}: documented parameters refused`)
    })
  }
})
