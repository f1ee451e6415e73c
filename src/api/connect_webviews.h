/* What the connect webview routes share with the webview's page. */
#ifndef LATCHKEY_API_CONNECT_WEBVIEWS_H
#define LATCHKEY_API_CONNECT_WEBVIEWS_H

#include "api/api.h"

/* The webview's URL, with its token. */
const char *connect_webview_url(const api_server *srv, arena *a, const store_connect_webview *cw);

#endif
