/* user_identities/create, get, list, update, delete (API key only). A user
 * identity's user_identity_key is unique in its workspace. */
#include "api/listing.h"
#include "api/render.h"
#include "core/ids.h"

#include <string.h>

/* The writable fields; each NULL when not given, CLEARED when sent as null. */
typedef struct identity_fields {
    const char *key, *email, *phone, *name;
} identity_fields;

static const char CLEARED[] = "";

/* A field's new value: given, cleared (NULL), or as it was. */
static const char *updated(const char *given, const char *was)
{
    return given == CLEARED ? NULL : given ? given : was;
}

static void read_field(api_call *c, const char *key, const char **out)
{
    if (param_null(c->p, key))
        *out = CLEARED;
    else
        param_nonempty_str(c->p, key, out);
}

static void read_fields(api_call *c, identity_fields *f)
{
    *f = (identity_fields){0};
    read_field(c, "user_identity_key", &f->key);
    read_field(c, "email_address", &f->email);
    read_field(c, "phone_number", &f->phone);
    read_field(c, "full_name", &f->name);
    if (f->email && f->email != CLEARED && !strchr(f->email, '@'))
        param_reject(c->p, "email_address", "Invalid email");
}

err user_identities_create(api_call *c)
{
    identity_fields f;
    read_fields(c, &f);
    /* Access systems to link the identity's users in: latchkey has none, so
     * any one named does not exist. */
    str_list systems;
    bool linked = param_str_list(c->p, "acs_system_ids", &systems) && systems.count > 0;
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    if (linked)
        return err_make(ERR_NOT_FOUND, "acs_system_not_found",
                        arena_sprintf(c->a, "Access system '%s' not found.", systems.items[0]));
    char *id = arena_alloc(c->a, UUID_STR_LEN);
    uuid_v4(id);
    store_user_identity ui = {.user_identity_id = id, .workspace_id = c->auth->workspace_id,
                              .user_identity_key = updated(f.key, NULL),
                              .email_address = updated(f.email, NULL),
                              .phone_number = updated(f.phone, NULL),
                              .full_name = updated(f.name, NULL),
                              .created_at = c->now};
    if (err_failed(e = store_user_identity_create(c->srv->store, &ui)))
        return e;
    c->out = json_pack("{s:o}", "user_identity", render_user_identity(&ui));
    return ERR_NONE;
}

err user_identities_get(api_call *c)
{
    const char *id, *key;
    param_either(c->p, "user_identity_id", &id, "user_identity_key", &key);
    err e = params_check(c->p);
    store_user_identity ui;
    if (err_failed(e))
        return e;
    if (err_failed(e = store_user_identity_get(c->srv->store, c->a, c->auth->workspace_id, id,
                                               key, &ui)))
        return e;
    c->out = json_pack("{s:o}", "user_identity", render_user_identity(&ui));
    return ERR_NONE;
}

static json_t *render_identity_row(api_call *c, const void *row)
{
    (void)c;
    return render_user_identity(row);
}

err user_identities_list(api_call *c)
{
    listing l;
    listing_init(&l, c);
    store_user_identity_filter f = {0};
    str_list ids;
    if (param_str_list(c->p, "user_identity_ids", &ids)) {
        f.ids = &ids;
        page_filters_add_list(&l.filters, "user_identity_ids", &ids);
    }
    if (param_nonempty_str(c->p, "search", &f.search))
        page_filters_add(&l.filters, "search", f.search);
    if (param_time(c->p, "created_before", &f.created_before))
        page_filters_add(&l.filters, "created_before",
                         arena_sprintf(c->a, "%lld", (long long)f.created_before));
    /* The identities of an access system's credential manager: latchkey has
     * no access systems, so none. */
    static const char *const ABSENT[] = {"credential_manager_acs_system_id", NULL};
    f.none = param_names_absent_resource(c->p, ABSENT);
    store_scope scope = api_scope(c, NULL);
    store_page sp;
    err e = listing_begin(&l, c, &scope, &sp);
    if (err_failed(e))
        return e;
    store_user_identity *rows = NULL;
    size_t n = 0;
    e = store_user_identity_list(c->srv->store, c->a, c->auth->workspace_id, &f, &sp, &rows, &n);
    return err_failed(e) ? e : listing_respond(&l, c, "user_identities", rows, n, sizeof *rows, render_identity_row);
}

err user_identities_update(api_call *c)
{
    const char *id = param_required_str(c->p, "user_identity_id");
    identity_fields f;
    read_fields(c, &f);
    err e = params_check(c->p);
    store_user_identity ui;
    if (err_failed(e))
        return e;
    if (err_failed(e = store_user_identity_get(c->srv->store, c->a, c->auth->workspace_id, id,
                                               NULL, &ui)))
        return e;
    ui.user_identity_key = updated(f.key, ui.user_identity_key);
    ui.email_address = updated(f.email, ui.email_address);
    ui.phone_number = updated(f.phone, ui.phone_number);
    ui.full_name = updated(f.name, ui.full_name);
    return store_user_identity_update(c->srv->store, &ui);
}

err user_identities_delete(api_call *c)
{
    const char *id = param_required_str(c->p, "user_identity_id");
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    return store_user_identity_delete(c->srv->store, c->auth->workspace_id, id);
}
