/* The answer cache (cache.h): shards, each a hash table of entries on a
 * least-recently-used list under its own lock, so that threads serving
 * different answers seldom wait for each other. Keys are digests: their
 * bytes are already uniformly spread. */
#include "api/cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { SHARDS = 16, BUCKETS = 4096 };

typedef struct entry {
    struct entry *next;         /* in its bucket */
    struct entry *newer, *older; /* in its shard's use order */
    unsigned char key[TOKEN_DIGEST_LEN];
    char workspace_id[ANSWER_WORKSPACE_ID_MAX];
    int64_t generation, expires_at;
    size_t body_len;
    char body[];
} entry;

typedef struct shard {
    pthread_mutex_t lock;
    entry *buckets[BUCKETS];
    entry *newest, *oldest;
    size_t bytes, budget;
} shard;

struct answer_cache {
    shard shards[SHARDS];
};

answer_cache *answer_cache_new(size_t max_bytes)
{
    if (max_bytes == 0)
        return NULL;
    answer_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&c->shards[i].lock, NULL);
        c->shards[i].budget = max_bytes / SHARDS;
    }
    return c;
}

void answer_cache_free(answer_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < SHARDS; i++) {
        for (entry *e = c->shards[i].newest, *older; e; e = older) {
            older = e->older;
            free(e);
        }
        pthread_mutex_destroy(&c->shards[i].lock);
    }
    free(c);
}

static shard *shard_of(answer_cache *c, const unsigned char *key) { return &c->shards[key[0] % SHARDS]; }

static entry **bucket_of(shard *s, const unsigned char *key)
{
    size_t h = (size_t)key[1] | (size_t)key[2] << 8 | (size_t)key[3] << 16;
    return &s->buckets[h % BUCKETS];
}

static size_t entry_size(const entry *e) { return sizeof *e + e->body_len; }

static void unlink_use(shard *s, entry *e)
{
    *(e->newer ? &e->newer->older : &s->newest) = e->older;
    *(e->older ? &e->older->newer : &s->oldest) = e->newer;
    e->newer = e->older = NULL;
}

static void link_newest(shard *s, entry *e)
{
    e->older = s->newest;
    e->newer = NULL;
    *(s->newest ? &s->newest->newer : &s->oldest) = e;
    s->newest = e;
}

/* The entry named key and the link that points at it, or NULL. */
static entry **find(shard *s, const unsigned char *key)
{
    entry **p = bucket_of(s, key);
    while (*p && memcmp((*p)->key, key, TOKEN_DIGEST_LEN) != 0)
        p = &(*p)->next;
    return *p ? p : NULL;
}

static void remove_entry(shard *s, entry **link)
{
    entry *e = *link;
    *link = e->next;
    unlink_use(s, e);
    s->bytes -= entry_size(e);
    free(e);
}

bool answer_cache_get(answer_cache *c, const unsigned char key[TOKEN_DIGEST_LEN], answer *out)
{
    if (!c)
        return false;
    shard *s = shard_of(c, key);
    pthread_mutex_lock(&s->lock);
    entry **link = find(s, key);
    entry *e = link ? *link : NULL;
    char *body = e ? malloc(e->body_len + 1) : NULL;
    if (body) {
        memcpy(body, e->body, e->body_len);
        body[e->body_len] = '\0';
        memcpy(out->workspace_id, e->workspace_id, sizeof out->workspace_id);
        out->generation = e->generation;
        out->expires_at = e->expires_at;
        out->body = body;
        out->body_len = e->body_len;
        unlink_use(s, e);
        link_newest(s, e);
    }
    pthread_mutex_unlock(&s->lock);
    return body != NULL;
}

void answer_cache_put(answer_cache *c, const unsigned char key[TOKEN_DIGEST_LEN], const answer *a)
{
    if (!c || strlen(a->workspace_id) >= ANSWER_WORKSPACE_ID_MAX)
        return;
    shard *s = shard_of(c, key);
    /* An answer that would take more than an eighth of its shard is left
     * out: it would push out many others. */
    if (sizeof(entry) + a->body_len > s->budget / 8)
        return;
    entry *e = malloc(sizeof *e + a->body_len);
    if (!e)
        return;
    memset(e, 0, sizeof *e);
    memcpy(e->key, key, TOKEN_DIGEST_LEN);
    strcpy(e->workspace_id, a->workspace_id);
    e->generation = a->generation;
    e->expires_at = a->expires_at;
    e->body_len = a->body_len;
    memcpy(e->body, a->body, a->body_len);
    pthread_mutex_lock(&s->lock);
    entry **old = find(s, key);
    if (old)
        remove_entry(s, old);
    entry **bucket = bucket_of(s, key);
    e->next = *bucket;
    *bucket = e;
    link_newest(s, e);
    s->bytes += entry_size(e);
    while (s->bytes > s->budget)
        remove_entry(s, find(s, s->oldest->key));
    pthread_mutex_unlock(&s->lock);
}

size_t answer_cache_bytes(answer_cache *c)
{
    size_t n = 0;
    for (int i = 0; c && i < SHARDS; i++) {
        pthread_mutex_lock(&c->shards[i].lock);
        n += c->shards[i].bytes;
        pthread_mutex_unlock(&c->shards[i].lock);
    }
    return n;
}
