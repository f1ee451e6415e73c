// The browser example's web server and tiny backend (plain node:http): it
// serves the two pages, the Seam SDK bundled for the browser and the Seam
// Components bundle from node_modules, and holds the workspace API key for
// the two backend routes (/api/session, /api/connect_webview).
//
//   node examples/browser/server.mjs --latchkey http://127.0.0.1:3020 \
//     --api-key seam_... --publishable-key seam_pk1_... --port 8080
//
// Each flag has an environment twin: LATCHKEY_URL, SEAM_API_KEY,
// SEAM_PUBLISHABLE_KEY, EXAMPLE_PORT, EXAMPLE_HOST.
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'

import { SeamHttp } from '@seamapi/http/connect'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '../..')
const PUBLIC = path.join(HERE, 'public')

// ---- configuration ----

const { values: flags } = parseArgs({
  options: {
    latchkey: { type: 'string' },
    'api-key': { type: 'string' },
    'publishable-key': { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})

if (flags.help) {
  console.log(`usage: node examples/browser/server.mjs [options]
  --latchkey URL           LATCHKEY_URL          latchkey's URL as the browser reaches it (http://127.0.0.1:3020)
  --api-key KEY            SEAM_API_KEY          workspace API key (stays in this process)
  --publishable-key KEY    SEAM_PUBLISHABLE_KEY  workspace publishable key (sent to the page)
  --port PORT              EXAMPLE_PORT          port to listen on (8080; 0 picks a free one)
  --host HOST              EXAMPLE_HOST          address to listen on (127.0.0.1)`)
  process.exit(0)
}

const config = {
  endpoint: (flags.latchkey ?? process.env.LATCHKEY_URL ?? 'http://127.0.0.1:3020').replace(/\/+$/, ''),
  apiKey: flags['api-key'] ?? process.env.SEAM_API_KEY ?? '',
  publishableKey: flags['publishable-key'] ?? process.env.SEAM_PUBLISHABLE_KEY ?? '',
  port: Number(flags.port ?? process.env.EXAMPLE_PORT ?? 8080),
  host: flags.host ?? process.env.EXAMPLE_HOST ?? '127.0.0.1',
}

if (!config.apiKey && !config.publishableKey) {
  console.error('example: give --api-key and/or --publishable-key (see --help)')
  process.exit(2)
}

/** The backend's client: the API key never leaves this process. */
const seam = config.apiKey ? SeamHttp.fromApiKey(config.apiKey, { endpoint: config.endpoint }) : null

// ---- the SDK for the browser (bundled once, in memory) ----

let sdkBundle = null
async function browserSdk() {
  sdkBundle ??= (async () => {
    const esbuild = await import('esbuild')
    const out = await esbuild.build({
      stdin: {
        contents: "export * from '@seamapi/http/connect'",
        resolveDir: ROOT,
        sourcefile: 'seam-http-browser.js',
      },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      write: false,
      logLevel: 'silent',
    })
    return out.outputFiles[0].contents
  })()
  return sdkBundle
}

// ---- helpers ----

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
}

function send(res, status, body, type = 'text/plain; charset=utf-8', extra = {}) {
  const buf = Buffer.isBuffer(body) || body instanceof Uint8Array ? body : Buffer.from(String(body))
  res.writeHead(status, {
    'content-type': type,
    'content-length': buf.length,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...extra,
  })
  res.end(buf)
}

const sendJson = (res, status, obj) => send(res, status, JSON.stringify(obj), 'application/json')

/**
 * The pages talk to this server and to latchkey, nothing else: no CDN, no
 * web fonts, no telemetry, no images from elsewhere (the components' fallback
 * device pictures on connect.getseam.com are blocked, see style.css).
 */
function pagePolicy() {
  const latchkey = new URL(config.endpoint).origin
  return [
    "default-src 'self'",
    `connect-src 'self' ${latchkey}`,
    "img-src 'self' data:",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self' data:",
    "script-src 'self'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
  ].join('; ')
}

function sendFile(res, file) {
  fs.readFile(file, (err, data) => {
    if (err) return send(res, 404, 'not found')
    const ext = path.extname(file)
    const extra = ext === '.html' ? { 'content-security-policy': pagePolicy(), 'referrer-policy': 'no-referrer' } : {}
    send(res, 200, data, TYPES[ext] ?? 'application/octet-stream', extra)
  })
}

async function readJson(req) {
  const chunks = []
  let size = 0
  for await (const chunk of req) {
    size += chunk.length
    if (size > 64 * 1024) throw Object.assign(new Error('body too large'), { status: 413 })
    chunks.push(chunk)
  }
  if (size === 0) return {}
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw Object.assign(new Error('body is not JSON'), { status: 400 })
  }
}

/** The "signed-in" user: in this example, just a name from the request. */
function userOf(body) {
  const user = typeof body.user === 'string' ? body.user.trim() : ''
  if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(user)) {
    throw Object.assign(new Error('user must be 1 to 64 letters, digits or _.@-'), { status: 400 })
  }
  return user
}

/** A redirect target for the webview: only back to this example's own pages. */
function redirectOf(req, body) {
  const own = `http://${req.headers.host}`
  if (typeof body.redirect_url !== 'string') return undefined
  let url
  try {
    url = new URL(body.redirect_url, own)
  } catch {
    throw Object.assign(new Error('redirect_url is not a URL'), { status: 400 })
  }
  if (url.origin !== own) throw Object.assign(new Error('redirect_url must be on this site'), { status: 400 })
  return url.href
}

function apiError(err) {
  // An error from latchkey through the SDK: pass its type and message on.
  if (err?.statusCode) {
    return { status: err.statusCode >= 500 ? 502 : err.statusCode, body: { error: { type: err.code, message: err.message } } }
  }
  if (err?.status) return { status: err.status, body: { error: { type: 'bad_request', message: err.message } } }
  return { status: 502, body: { error: { type: 'latchkey_unreachable', message: String(err?.message ?? err) } } }
}

// ---- backend routes (hold the API key) ----

const api = {
  /** The user's client session (created on first use); returns its token. */
  async 'POST /api/session'(req) {
    const user = userOf(await readJson(req))
    const session = await seam.clientSessions.getOrCreate({ user_identifier_key: user })
    return {
      client_session_id: session.client_session_id,
      user_identifier_key: session.user_identifier_key,
      token: session.token,
      expires_at: session.expires_at,
    }
  },

  /** A connect webview for the user, granted to the user's client session. */
  async 'POST /api/connect_webview'(req) {
    const body = await readJson(req)
    const user = userOf(body)
    const redirect = redirectOf(req, body)
    const session = await seam.clientSessions.getOrCreate({ user_identifier_key: user })
    const webview = await seam.connectWebviews.create({
      ...(redirect ? { custom_redirect_url: redirect, custom_redirect_failure_url: redirect } : {}),
      ...(Array.isArray(body.accepted_providers) ? { accepted_providers: body.accepted_providers } : {}),
    })
    await seam.clientSessions.grantAccess({
      client_session_id: session.client_session_id,
      connect_webview_ids: [webview.connect_webview_id],
    })
    return { connect_webview_id: webview.connect_webview_id, url: webview.url }
  },

  /** Sign out: revoke the user's token (the session record stays). */
  async 'POST /api/sign_out'(req) {
    const user = userOf(await readJson(req))
    const [session] = await seam.clientSessions.list({ user_identifier_key: user })
    if (session) await seam.clientSessions.revoke({ client_session_id: session.client_session_id })
    return { revoked: Boolean(session) }
  },
}

// ---- static files ----

const STATIC = {
  '/': path.join(PUBLIC, 'index.html'),
  '/index.html': path.join(PUBLIC, 'index.html'),
  '/app.js': path.join(PUBLIC, 'app.js'),
  '/session.js': path.join(PUBLIC, 'session.js'),
  '/style.css': path.join(PUBLIC, 'style.css'),
  '/device.svg': path.join(PUBLIC, 'device.svg'),
  '/components.html': path.join(PUBLIC, 'components.html'),
  '/components.js': path.join(PUBLIC, 'components.js'),
  // Seam Components: one self-contained ES module (React included) and its CSS.
  '/vendor/seam-elements.js': path.join(ROOT, 'node_modules/@seamapi/react/dist/elements.js'),
  '/vendor/seam-components.css': path.join(ROOT, 'node_modules/@seamapi/react/dist/index.min.css'),
}

async function handle(req, res) {
  const url = new URL(req.url, `http://${req.headers.host ?? 'localhost'}`)
  const key = `${req.method} ${url.pathname}`

  if (api[key]) {
    if (!seam) return sendJson(res, 501, { error: { type: 'no_api_key', message: 'this example server was started without --api-key' } })
    try {
      return sendJson(res, 200, await api[key](req))
    } catch (err) {
      const { status, body } = apiError(err)
      return sendJson(res, status, body)
    }
  }

  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed')

  if (url.pathname === '/config.json') {
    // What the page may know: where latchkey is and the publishable key.
    return sendJson(res, 200, {
      endpoint: config.endpoint,
      publishableKey: config.publishableKey || null,
      hasBackend: Boolean(seam),
    })
  }
  if (url.pathname === '/vendor/seam-http.js') {
    try {
      return send(res, 200, await browserSdk(), TYPES['.js'])
    } catch (err) {
      return send(res, 500, `bundling @seamapi/http failed: ${err.message}`)
    }
  }
  if (url.pathname === '/favicon.ico') return send(res, 204, '')
  const file = STATIC[url.pathname]
  if (file) return sendFile(res, file)
  return send(res, 404, 'not found')
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    if (!res.headersSent) send(res, 500, String(err?.message ?? err))
    else res.destroy()
  })
})

server.listen(config.port, config.host, () => {
  const { port } = server.address()
  // The first line is what scripts (and the tests) read.
  console.log(`example listening on http://${config.host}:${port}`)
  console.log(`  user page:        http://${config.host}:${port}/?user=alice`)
  console.log(`  publishable key:  http://${config.host}:${port}/?user=alice&mode=publishable`)
  console.log(`  Seam Components:  http://${config.host}:${port}/components.html?user=alice`)
  console.log(`  latchkey:         ${config.endpoint}`)
})

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    server.closeAllConnections?.()
    server.close(() => process.exit(0))
  })
}
