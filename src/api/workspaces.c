/* workspaces/get and GET /health. */
#include "api/handler.h"
#include "api/render.h"

err health_get(api_call *c)
{
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    c->out = json_pack("{s:s}", "service", "latchkey");
    return ERR_NONE;
}

err workspaces_get(api_call *c)
{
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    store_workspace w;
    if (err_failed(e = store_workspace_get(c->srv->store, c->a, c->auth->workspace_id, &w)))
        return e;
    c->out = json_pack("{s:o}", "workspace", render_workspace(&w));
    return ERR_NONE;
}
