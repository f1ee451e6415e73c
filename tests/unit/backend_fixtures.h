/* What the unit tests that run once per backend share (those of
 * STORE_UNIT_TESTS in CMakeLists.txt): running their table on SQLite and,
 * when LATCHKEY_TEST_POSTGRES names a throwaway cluster (a directory of
 * scripts/pg-test-cluster: its url names the cluster's database postgres,
 * its password is the superuser's), on PostgreSQL, in a fresh database per
 * run; and statements run beside the store. */
#ifndef LATCHKEY_TESTS_UNIT_BACKEND_FIXTURES_H
#define LATCHKEY_TESTS_UNIT_BACKEND_FIXTURES_H

#include "unit_fixtures.h"

#include <libpq-fe.h>

typedef struct pg_test_db {
    char cluster[512]; /* the cluster's URL (database postgres) */
    char url[512];     /* this run's database */
    char name[64];
} pg_test_db;

/* Runs sql (no rows) on the database at url, through a connection of its own. */
static inline int pg_test_exec(const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    int rc = r && PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc)
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return rc;
}

static inline int pg_test_read_line(const char *dir, const char *name, char *out, int size)
{
    char file[512];
    snprintf(file, sizeof file, "%s/%s", dir, name);
    FILE *fp = fopen(file, "r");
    int ok = fp && fgets(out, size, fp);
    if (fp)
        fclose(fp);
    if (!ok)
        fprintf(stderr, "cannot read %s\n", file);
    out[ok ? strcspn(out, "\r\n") : 0] = '\0';
    return ok ? 0 : -1;
}

/* Creates db->name, prefix_ and random hex, in the cluster of
 * LATCHKEY_TEST_POSTGRES, and sets PGPASSWORD for libpq. */
static inline int pg_test_db_create(pg_test_db *db, const char *prefix)
{
    const char *dir = getenv("LATCHKEY_TEST_POSTGRES");
    char password[256], hex[17], sql[128];
    if (!dir || pg_test_read_line(dir, "url", db->cluster, sizeof db->cluster) ||
        pg_test_read_line(dir, "password", password, sizeof password))
        return -1;
    setenv("PGPASSWORD", password, 1);
    unsigned char r[8];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(hex, sizeof hex, r, sizeof r);
    snprintf(db->name, sizeof db->name, "%s_%s", prefix, hex);
    const char *slash = strrchr(db->cluster, '/');
    snprintf(db->url, sizeof db->url, "%.*s/%s", (int)(slash - db->cluster), db->cluster,
             db->name);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db->name);
    return pg_test_exec(db->cluster, sql);
}

static inline int pg_test_db_drop(const pg_test_db *db)
{
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db->name);
    return pg_test_exec(db->cluster, sql);
}

static inline void postgres_not_configured(void **state)
{
    (void)state;
    print_message("LATCHKEY_TEST_POSTGRES is not set: the suite ran on SQLite only"
                  " (scripts/pg-test-cluster start DIR, then LATCHKEY_TEST_POSTGRES=DIR)\n");
    skip();
}

/* Runs tests as the group "sqlite" and, when LATCHKEY_TEST_POSTGRES is set,
 * as the group "postgres" (otherwise a skipped test says so); the number
 * of failures. */
static inline int run_on_each_backend(const struct CMUnitTest *tests, size_t count,
                                      CMFixtureFunction sqlite_setup,
                                      CMFixtureFunction postgres_setup,
                                      CMFixtureFunction teardown)
{
    int failed = _cmocka_run_group_tests("sqlite", tests, count, sqlite_setup, teardown);
    const char *pg = getenv("LATCHKEY_TEST_POSTGRES");
    if (pg && *pg)
        return failed + _cmocka_run_group_tests("postgres", tests, count, postgres_setup, teardown);
    const struct CMUnitTest skipped[] = {cmocka_unit_test(postgres_not_configured)};
    return failed + _cmocka_run_group_tests("postgres", skipped, 1, NULL, NULL);
}

#endif
