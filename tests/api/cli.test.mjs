// The admin command line: `workspace create` and `api-key create` print the
// documented JSON and work against a running server sharing the data dir;
// a fresh data dir without --seed shows a sandbox API key once; `routes`
// prints the route table without any data dir or database.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import {
  BIN,
  SANITIZED,
  cli,
  cliRun,
  isUuid,
  listDeviceIds,
  sdkFromApiKey,
  sdkFromPublishableKey,
  stdoutWhen,
  uniqueKey,
  withDataDir,
  withServer,
} from './harness.mjs'

/** A server without the fixture on dir, shared with the CLI. */
const withUnseededServer = (dir, fn) => withServer({ seed: false, dataDir: dir }, fn)

describe('workspace create', () => {
  it('prints {workspace_id, name, is_sandbox, publishable_key}', () =>
    withDataDir(async (dir) => {
      const ws = await cli(dir, 'workspace', 'create', '--name', 'Acme Rentals')
      assert.deepEqual(Object.keys(ws).sort(), ['is_sandbox', 'name', 'publishable_key', 'workspace_id'])
      assert.ok(isUuid(ws.workspace_id), ws.workspace_id)
      assert.equal(ws.name, 'Acme Rentals')
      assert.equal(ws.is_sandbox, false)
      assert.match(ws.publishable_key, /^seam_pk/)
    }))

  it('--sandbox makes a sandbox workspace', () =>
    withDataDir(async (dir) => {
      const ws = await cli(dir, 'workspace', 'create', '--name', 'Playground', '--sandbox')
      assert.equal(ws.is_sandbox, true)
      assert.equal(ws.name, 'Playground')
    }))

  it('two workspaces get distinct ids and publishable keys', () =>
    withDataDir(async (dir) => {
      const a = await cli(dir, 'workspace', 'create', '--name', 'A')
      const b = await cli(dir, 'workspace', 'create', '--name', 'B')
      assert.notEqual(a.workspace_id, b.workspace_id)
      assert.notEqual(a.publishable_key, b.publishable_key)
    }))

  it('without --name it fails with a non-zero exit and prints no JSON', () =>
    withDataDir(async (dir) => {
      const r = await cliRun(dir, 'workspace', 'create')
      assert.notEqual(r.code, 0)
      assert.equal(r.stdout.trim(), '')
    }))
})

describe('api-key create', () => {
  it('prints {api_key_id, workspace_id, api_key}', () =>
    withDataDir(async (dir) => {
      const ws = await cli(dir, 'workspace', 'create', '--name', 'Keys')
      const key = await cli(dir, 'api-key', 'create', '--workspace', ws.workspace_id, '--name', 'backend')
      assert.deepEqual(Object.keys(key).sort(), ['api_key', 'api_key_id', 'workspace_id'])
      assert.ok(isUuid(key.api_key_id), key.api_key_id)
      assert.equal(key.workspace_id, ws.workspace_id)
      assert.match(key.api_key, /^seam_/)
      assert.doesNotMatch(key.api_key, /^seam_(cst|pk|at)/)
      const other = await cli(dir, 'api-key', 'create', '--workspace', ws.workspace_id)
      assert.notEqual(other.api_key, key.api_key)
      assert.notEqual(other.api_key_id, key.api_key_id)
    }))

  it('for an unknown workspace it fails with a non-zero exit and prints no key', () =>
    withDataDir(async (dir) => {
      const r = await cliRun(dir, 'api-key', 'create', '--workspace', '3f1e0a52-0000-4000-8000-000000000000')
      assert.notEqual(r.code, 0)
      assert.doesNotMatch(r.stdout, /seam_/)
    }))
})

describe('CLI and a running server sharing the data dir', () => {
  it('the new API key works at once and sees an empty workspace', () =>
    withDataDir((dir) =>
      withUnseededServer(dir, async (srv) => {
        const ws = await cli(dir, 'workspace', 'create', '--name', 'Live Co')
        const { api_key } = await cli(dir, 'api-key', 'create', '--workspace', ws.workspace_id)
        const seam = sdkFromApiKey(srv, api_key)
        const got = await seam.workspaces.get()
        assert.equal(got.workspace_id, ws.workspace_id)
        assert.equal(got.name, 'Live Co')
        assert.equal(got.is_sandbox, false)
        assert.equal(got.publishable_key, ws.publishable_key)
        assert.deepEqual(await seam.devices.list(), [])
        assert.deepEqual(await seam.clientSessions.list(), [])
        const cs = await seam.clientSessions.create({ user_identifier_key: uniqueKey('cli') })
        assert.equal(cs.workspace_id, ws.workspace_id)
        assert.deepEqual(await listDeviceIds(srv, cs.token), [])
      }),
    ))

  it("the new workspace's publishable key works", () =>
    withDataDir((dir) =>
      withUnseededServer(dir, async (srv) => {
        const ws = await cli(dir, 'workspace', 'create', '--name', 'PK Co')
        const uik = uniqueKey('cli_pk')
        const seam = await sdkFromPublishableKey(srv, ws.publishable_key, uik)
        const cs = await seam.clientSessions.get()
        assert.equal(cs.workspace_id, ws.workspace_id)
        assert.equal(cs.user_identifier_key, uik)
      }),
    ))
})

describe('first start without --seed', () => {
  const keyLine = /API key\s+(seam_\S+)/g

  it('prints a sandbox API key once; it works, also after a restart', () =>
    withDataDir(async (dir) => {
      const key = await withUnseededServer(dir, async (first) => {
        const out = await stdoutWhen(first, (text) => /API key\s+seam_\S+\n/.test(text))
        const keys = [...out.matchAll(keyLine)].map((m) => m[1])
        assert.equal(keys.length, 1, `one API key on stdout:\n${out}`)
        const ws = await sdkFromApiKey(first, keys[0]).workspaces.get()
        assert.equal(ws.is_sandbox, true)
        assert.ok(isUuid(ws.workspace_id))
        assert.ok(!first.stderr().includes(keys[0]), 'the key must not be logged to stderr')
        return keys[0]
      })
      await withUnseededServer(dir, async (second) => {
        assert.deepEqual(
          [...second.stdout().matchAll(keyLine)].map((m) => m[1]),
          [],
          `no new key on the second start:\n${second.stdout()}`,
        )
        assert.doesNotMatch(second.stdout(), /seam_/)
        const ws = await sdkFromApiKey(second, key).workspaces.get()
        assert.equal(ws.is_sandbox, true)
      })
    }))
})

describe('routes', () => {
  /** `latchkey ...args` in cwd, with a data dir and database that must not be touched. */
  const runIn = (cwd, ...args) =>
    new Promise((resolve) => {
      const env = {
        ...process.env,
        LATCHKEY_DATA_DIR: path.join(cwd, 'never-created'),
        LATCHKEY_DATABASE_URL: 'postgres://nowhere.invalid/latchkey',
      }
      execFile(BIN, args, { cwd, env, timeout: SANITIZED ? 60_000 : 20_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }),
      )
    })

  it('prints each route as {path, methods, credentials, page}, needing no data dir or database', () =>
    withDataDir(async (dir) => {
      const r = await runIn(dir, 'routes')
      assert.equal(r.code, 0, r.stderr)
      assert.deepEqual(fs.readdirSync(dir), [], 'routes created files')
      const routes = JSON.parse(r.stdout)
      assert.ok(routes.length > 30, `${routes.length} routes`)
      for (const route of routes) {
        assert.deepEqual(Object.keys(route).sort(), ['credentials', 'methods', 'page', 'path'])
        assert.match(route.path, /^\/[a-z_/]+$/)
        assert.ok(route.methods.length > 0, route.path)
        for (const m of route.methods) assert.ok(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(m), m)
        for (const c of route.credentials) {
          assert.ok(['api_key', 'client_session', 'publishable_key'].includes(c), c)
        }
        assert.equal(typeof route.page, 'boolean')
      }
      assert.equal(new Set(routes.map((x) => x.path)).size, routes.length, 'each path once')
      const by = Object.fromEntries(routes.map((x) => [x.path, x]))
      assert.deepEqual(by['/health'], { path: '/health', methods: ['GET'], credentials: [], page: false })
      assert.deepEqual(by['/devices/list'], {
        path: '/devices/list',
        methods: ['GET', 'POST'],
        credentials: ['api_key', 'client_session'],
        page: false,
      })
      assert.deepEqual(by['/client_sessions/create'].credentials, ['api_key', 'publishable_key'])
      assert.equal(by['/connect_webviews/view'].page, true)
      assert.deepEqual(by['/connect_webviews/view'].credentials, [])
    }))

  it('takes no options: usage on stderr, exit 2, nothing on stdout', () =>
    withDataDir(async (dir) => {
      const r = await runIn(dir, 'routes', '--port', '1')
      assert.equal(r.code, 2)
      assert.equal(r.stdout, '')
      assert.match(r.stderr, /usage/)
    }))
})
