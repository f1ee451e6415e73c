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

#include "store/resource.h"

enum { SHARED_READS = 64, WORKSPACE_ID_MAX = 64 };

/* The reads of one workspace: how many have started and finished, and the
 * last one's answer. */
typedef struct shared_read {
    char workspace_id[WORKSPACE_ID_MAX];
    uint64_t started, finished;
    bool reading;
    int waiting;
    err e;
    int64_t gen;
} shared_read;

struct store_generations {
    pthread_mutex_t lock;
    pthread_cond_t done;
    shared_read reads[SHARED_READS];
};

store_generations *store_generations_new(void)
{
    store_generations *g = calloc(1, sizeof *g);
    if (g) {
        pthread_mutex_init(&g->lock, NULL);
        pthread_cond_init(&g->done, NULL);
    }
    return g;
}

void store_generations_free(store_generations *g)
{
    if (!g)
        return;
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->done);
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

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The shared read of workspace_id, claimed when its place is free; NULL
 * when another workspace's readers hold the place. Called locked. */
static shared_read *place_of(store_generations *g, const char *workspace_id)
{
    shared_read *r = &g->reads[fnv1a(workspace_id) % SHARED_READS];
    if (strcmp(r->workspace_id, workspace_id) == 0)
        return r;
    if (r->reading || r->waiting)
        return NULL;
    memset(r, 0, sizeof *r);
    strcpy(r->workspace_id, workspace_id);
    return r;
}

static err shared_generation(store *s, const char *workspace_id, int64_t *gen)
{
    store_generations *g = s->generations;
    pthread_mutex_lock(&g->lock);
    shared_read *r = place_of(g, workspace_id);
    if (!r) {
        pthread_mutex_unlock(&g->lock);
        return read_generation(s, workspace_id, gen);
    }
    /* A read numbered `need` or later starts after this call began. */
    const uint64_t need = r->started + 1;
    r->waiting++;
    while (r->finished < need) {
        if (r->reading) {
            pthread_cond_wait(&g->done, &g->lock);
            continue;
        }
        r->reading = true;
        const uint64_t mine = ++r->started;
        pthread_mutex_unlock(&g->lock);
        int64_t value;
        err e = read_generation(s, workspace_id, &value);
        pthread_mutex_lock(&g->lock);
        r->reading = false;
        r->finished = mine;
        r->e = e;
        r->gen = value;
        pthread_cond_broadcast(&g->done);
    }
    err e = r->e;
    *gen = r->gen;
    r->waiting--;
    pthread_mutex_unlock(&g->lock);
    return e;
}

err store_workspace_generation(store *s, const char *workspace_id, int64_t *gen)
{
    if (db_in_transaction(s->db) || db_backend_of(s->db) != DB_POSTGRES ||
        strlen(workspace_id) >= WORKSPACE_ID_MAX)
        return read_generation(s, workspace_id, gen);
    return shared_generation(s, workspace_id, gen);
}
