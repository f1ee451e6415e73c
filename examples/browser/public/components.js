// The Seam Components page: <seam-device-table> from @seamapi/react's
// elements.js (served from node_modules), pointed at latchkey with its
// `endpoint` attribute and the user's client session token (or, in
// publishable mode, the publishable key and the user's identifier key, so
// the components get the session themselves).
import {
  currentMode,
  currentUser,
  getClientSession,
  hideAuthError,
  isAuthError,
  loadConfig,
  renderSessionPanel,
  renderSignIn,
  wirePasteForm,
  showAuthError,
} from '/session.js'

// No telemetry, no CSS from react.seam.co, no Google Fonts: everything the
// page needs comes from this server and latchkey.
globalThis.disableSeamTelemetry = true
globalThis.disableSeamCssInjection = true
globalThis.disableSeamFontInjection = true

const $ = (id) => document.getElementById(id)

function pageError(err) {
  const box = $('page-error')
  const hint =
    err?.message === 'Network Error'
      ? ` (latchkey at ${config?.endpoint} is unreachable, or it refused the browser's CORS request)`
      : ''
  box.textContent = `Something went wrong: ${err?.message ?? err}${hint}`
  box.hidden = false
}

let config
let user
let mode
let current = null

/** The components report errors inside themselves; say plainly when the session is gone. */
async function checkSession() {
  if (!current) return
  try {
    await current.client.clientSessions.get()
  } catch (err) {
    if (isAuthError(err)) showAuthError(err, start)
  }
}

function mountTable() {
  const table = document.createElement('seam-device-table')
  table.setAttribute('endpoint', config.endpoint)
  if (current.source === 'publishable') {
    // The components call client_sessions/get_or_create themselves.
    table.setAttribute('publishable-key', config.publishableKey)
    table.setAttribute('user-identifier-key', user)
  } else {
    table.setAttribute('client-session-token', current.token)
  }
  table.setAttribute('disable-telemetry', 'true')
  table.setAttribute('disable-css-injection', 'true')
  table.setAttribute('disable-font-injection', 'true')
  table.setAttribute('heading', `${current.session.user_identifier_key ?? user}\u2019s devices`)
  $('components').replaceChildren(table)
}

async function start() {
  hideAuthError()
  $('page-error').hidden = true
  current = null
  try {
    current = await getClientSession({ config, user, mode })
  } catch (err) {
    renderSessionPanel({ user, mode, config, result: null })
    if (isAuthError(err)) return showAuthError(err, start)
    return pageError(err)
  }
  renderSessionPanel({ user, mode, config, result: current })
  mountTable()
  document.body.dataset.ready = 'true'
}

async function main() {
  config = await loadConfig()
  user = currentUser()
  if (!user) return renderSignIn()
  mode = currentMode(config)
  for (const a of document.querySelectorAll('nav a')) a.search = location.search
  document.title = `${user}\u2019s doors (Seam Components) \u2014 latchkey example`
  // Load the components only once the globals above are set.
  await import('/vendor/seam-elements.js')
  document.addEventListener('click', () => checkSession(), true)
  await start()
}

wirePasteForm()
main().catch(pageError)
