/* Filter and page conditions the resources' queries share. */
#include "store/resource.h"

void query_eq(sql_builder *b, const char *column, const char *value)
{
    if (!value)
        return;
    sql_builder_appendf(b, " AND %s = ?", column);
    sql_builder_bind_text(b, value);
}

void query_in(sql_builder *b, const char *column, const str_list *l)
{
    if (!l)
        return;
    sql_builder_appendf(b, " AND %s IN (", column);
    for (size_t i = 0; i < l->count; i++) {
        sql_builder_append(b, i ? ",?" : "?");
        sql_builder_bind_text(b, l->items[i]);
    }
    /* An empty list matches nothing; "IN ()" is not SQL everywhere. */
    sql_builder_append(b, l->count ? ")" : "NULL)");
}

void query_page(sql_builder *b, const char *alias, const store_page *page)
{
    sql_builder_appendf(b, " AND %s.seq > ? ORDER BY %s.seq LIMIT ?", alias, alias);
    sql_builder_bind_int(b, page->after_seq);
    sql_builder_bind_int(b, (int64_t)page->limit);
}

void query_before(sql_builder *b, const char *column, int64_t before)
{
    if (!before)
        return;
    sql_builder_appendf(b, " AND %s < ?", column);
    sql_builder_bind_int(b, before);
}

void query_list_filter(sql_builder *b, const db *d, const char *alias, const store_list_filter *f,
                       const char *const *searched, size_t nsearched)
{
    if (!f)
        return;
    if (f->none)
        sql_builder_append(b, " AND FALSE");
    dialect_metadata(b, d, arena_sprintf(b->a, "%s.custom_metadata", alias), f->metadata);
    query_eq(b, arena_sprintf(b->a, "%s.customer_key", alias), f->customer_key);
    if (f->search)
        dialect_search(b, d, searched, nsearched, NULL, f->search);
}

void query_customer(sql_builder *b, const char *alias, const char *customer_key)
{
    if (!customer_key)
        return;
    sql_builder_appendf(b, " AND %s.connected_account_id IN (SELECT connected_account_id"
                           " FROM connected_accounts WHERE workspace_id = %s.workspace_id"
                           " AND customer_key = ?)",
                        alias, alias);
    sql_builder_bind_text(b, customer_key);
}
