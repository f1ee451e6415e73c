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
