/* Workspace generations (store.h): the sum of a workspace's slots in
 * workspace_generations, which triggers bump with every change.
 *
 * Outside a transaction the answer must come from a statement that started
 * after the call did, or a node could miss a change another node committed
 * before this request arrived. On PostgreSQL such a statement is a round
 * trip, so concurrent callers for one workspace share one: a caller waits
 * for the next read to start and takes its answer. On SQLite a read costs
 * less than the waiting would, and each caller reads for itself. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/shared_run.h"
#include "store/resource.h"

enum { SHARED_READS = 64, WORKSPACE_ID_MAX = 64 };
/* In a place's state: a caller is making the place its workspace's. */
#define CLAIMING (1u << 31)

/* The shared reads of one workspace at a time. */
typedef struct shared_read {
    shared_run run; /* the sum read, or -1 when the read failed */
    _Atomic uint32_t state; /* callers using the place, and CLAIMING */
    char workspace_id[WORKSPACE_ID_MAX]; /* changed only with CLAIMING */
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

void store_generations_free(store_generations *g) { free(g); }

static err read_generation(store *s, const char *workspace_id, int64_t *gen)
{
    *gen = 0;
    return db_intf(s->db, gen,
                   "SELECT COALESCE(SUM(gen), 0) FROM workspace_generations WHERE workspace_id = ?",
                   "s", workspace_id);
}

typedef struct reading {
    store *s;
    const char *workspace_id;
} reading;

static int64_t read_once(void *p)
{
    reading *x = p;
    int64_t gen;
    return err_failed(read_generation(x->s, x->workspace_id, &gen)) ? -1 : gen;
}

/* Uses the place for workspace_id: true when it is that workspace's (or
 * has just become it, being free); false, using nothing, when another
 * workspace's callers are using it. Without a lock: the place's name is
 * read only while it is in use (so nobody renames it), and renamed only by
 * its one user, flagged CLAIMING meanwhile. */
static bool enter(shared_read *r, const char *workspace_id)
{
    uint32_t state = atomic_load(&r->state);
    do {
        if (state & CLAIMING)
            return false;
    } while (!atomic_compare_exchange_weak(&r->state, &state, state + 1));
    if (strcmp(r->workspace_id, workspace_id) == 0)
        return true;
    uint32_t alone = 1;
    if (atomic_compare_exchange_strong(&r->state, &alone, 1 | CLAIMING)) {
        strcpy(r->workspace_id, workspace_id);
        atomic_fetch_and(&r->state, ~CLAIMING);
        return true;
    }
    atomic_fetch_sub(&r->state, 1);
    return false;
}

static err shared_generation(store *s, const char *workspace_id, int64_t *gen)
{
    shared_read *r = &s->generations->reads[db_hash(workspace_id) % SHARED_READS];
    if (!enter(r, workspace_id))
        return read_generation(s, workspace_id, gen);
    reading x = {s, workspace_id};
    int64_t shared = shared_run_call(&r->run, read_once, &x);
    atomic_fetch_sub(&r->state, 1);
    if (shared < 0) /* the read failed: this caller reads (and says why) alone */
        return read_generation(s, workspace_id, gen);
    *gen = shared;
    return ERR_NONE;
}

err store_workspace_generation(store *s, const char *workspace_id, int64_t *gen)
{
    if (db_in_transaction(s->db) || db_backend_of(s->db) != DB_POSTGRES ||
        strlen(workspace_id) >= WORKSPACE_ID_MAX)
        return read_generation(s, workspace_id, gen);
    return shared_generation(s, workspace_id, gen);
}
