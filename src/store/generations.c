/* Workspace generations (store.h): the sum of a workspace's slots in
 * workspace_generations, which triggers bump with every change.
 *
 * Outside a transaction the answer must come from a statement that started
 * after the call did, or a node could miss a change another node committed
 * before this request arrived. On PostgreSQL such a statement is a round
 * trip, so concurrent callers for one workspace share one: a caller waits
 * for the next read to start and takes its answer. On SQLite a read costs
 * less than the waiting would, and each caller reads for itself. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/shared_run.h"
#include "store/resource.h"

enum { SHARED_READS = 64, WORKSPACE_ID_MAX = 64 };

/* The shared reads of one workspace, and the last one's answer. */
typedef struct shared_read {
    shared_run run;
    char workspace_id[WORKSPACE_ID_MAX];
    err e;
    int64_t gen;
} shared_read;

struct store_generations {
    shared_read reads[SHARED_READS];
};

store_generations *store_generations_new(void)
{
    store_generations *g = calloc(1, sizeof *g);
    for (size_t i = 0; g && i < SHARED_READS; i++)
        shared_run_init(&g->reads[i].run);
    return g;
}

void store_generations_free(store_generations *g)
{
    for (size_t i = 0; g && i < SHARED_READS; i++)
        shared_run_destroy(&g->reads[i].run);
    free(g);
}

static err read_generation(store *s, const char *workspace_id, int64_t *gen)
{
    arena a;
    arena_init(&a);
    sql_builder b;
    sql_builder_init(&b, &a);
    sql_builder_append(&b, "SELECT COALESCE(SUM(gen), 0) FROM workspace_generations"
                           " WHERE workspace_id = ?");
    sql_builder_bind_text(&b, workspace_id);
    *gen = 0;
    err e = db_query(s->db, &b, db_read_int, gen);
    arena_free(&a);
    return e;
}

/* One read, and what it found. */
typedef struct reading {
    store *s;
    shared_read *r;
    err e;
    int64_t gen;
} reading;

static void read_once(void *p)
{
    reading *x = p;
    x->e = read_generation(x->s, x->r->workspace_id, &x->gen);
}

static void publish(void *p)
{
    reading *x = p;
    x->r->e = x->e;
    x->r->gen = x->gen;
}

static err shared_generation(store *s, const char *workspace_id, int64_t *gen)
{
    shared_read *r = &s->generations->reads[db_hash(workspace_id) % SHARED_READS];
    pthread_mutex_lock(&r->run.lock);
    /* The place is this workspace's, or free to become it; otherwise
     * another workspace's readers hold it, and this caller reads alone. */
    bool mine = strcmp(r->workspace_id, workspace_id) == 0;
    if (!mine && !r->run.running && !r->run.waiting) {
        strcpy(r->workspace_id, workspace_id);
        mine = true;
    }
    if (!mine) {
        pthread_mutex_unlock(&r->run.lock);
        return read_generation(s, workspace_id, gen);
    }
    reading x = {.s = s, .r = r};
    shared_run_wait(&r->run, read_once, publish, &x);
    err e = r->e;
    *gen = r->gen;
    pthread_mutex_unlock(&r->run.lock);
    return e;
}

err store_workspace_generation(store *s, const char *workspace_id, int64_t *gen)
{
    if (db_in_transaction(s->db) || db_backend_of(s->db) != DB_POSTGRES ||
        strlen(workspace_id) >= WORKSPACE_ID_MAX)
        return read_generation(s, workspace_id, gen);
    return shared_generation(s, workspace_id, gen);
}
