/* Writing what a provider says of an account, for the connect webview's
 * page (sandbox providers) and the links job (live ones): connecting the
 * account, and its devices. Each runs inside the caller's transaction. */
#ifndef LATCHKEY_JOBS_ACCOUNTS_H
#define LATCHKEY_JOBS_ACCOUNTS_H

#include "providers/provider.h"
#include "store/store.h"

typedef struct account_connection {
    store_connect_webview *cw;      /* set authorized (and its account) */
    const provider *p;
    const provider_account *account;
    const char *settings_sealed;    /* a live provider's settings, or NULL */
    int64_t now;
} account_connection;

/* The account (the workspace's account of the same provider login when
 * there is one), its devices, the events, and the webview authorized: not
 * found when the webview was ended meanwhile (the caller rolls back). */
err accounts_connect(store *s, arena *a, account_connection *cn);

/* The device as the provider lists it: made, with a device.connected event
 * (ev: its ids), or refreshed; a listed device keeps its state. */
err accounts_device(store *s, arena *a, const provider *p, const store_event *ev,
                    const provider_device *pd, bool listed, int64_t now);

#endif
