// The Seam Components page: <seam-device-table> from @seamapi/react's
// elements.js (served from node_modules), pointed at latchkey with its
// `endpoint` attribute and the user's client session token (or, in
// publishable mode, the publishable key and the user's identifier key, so
// the components get the session themselves).
import {
  currentMode,
  currentUser,
  isAuthError,
  loadConfig,
  openSession,
  renderSignIn,
  wirePasteForm,
  showAuthError,
  showPageError,
} from '/session.js'

// No telemetry, no CSS from react.seam.co, no Google Fonts: everything the
// page needs comes from this server and latchkey.
globalThis.disableSeamTelemetry = true
globalThis.disableSeamCssInjection = true
globalThis.disableSeamFontInjection = true

const $ = (id) => document.getElementById(id)

const pageError = (err) => showPageError(err, config)

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
  current = null // nothing acts on the old session meanwhile
  current = await openSession({ config, user, mode, retry: start })
  if (!current) return
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
