/* Flags and their LATCHKEY_* environment twins (config.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum opt_type { OPT_STR, OPT_UINT, OPT_BOOL } opt_type;

typedef struct option_def {
    const char *flag;
    const char *env;
    opt_type type;
    size_t offset;
    const char *help;
} option_def;

#define OFF(f) offsetof(config, f)

static const option_def OPTIONS[] = {
    {"--host", "LATCHKEY_HOST", OPT_STR, OFF(host), "address to listen on (127.0.0.1)"},
    {"--port", "LATCHKEY_PORT", OPT_UINT, OFF(port), "port to listen on (3020)"},
    {"--data-dir", "LATCHKEY_DATA_DIR", OPT_STR, OFF(data_dir), "data directory (./data)"},
    {"--database", "LATCHKEY_DATABASE_URL", OPT_STR, OFF(database_url),
     "sqlite:PATH or postgres://USER@HOST:PORT/DB (sqlite:<data-dir>/latchkey.db)"},
    {"--public-url", "LATCHKEY_PUBLIC_URL", OPT_STR, OFF(public_url),
     "URL clients reach this server at (http://<host>:<port>)"},
    {"--seed", "LATCHKEY_SEED", OPT_BOOL, OFF(seed), "load the test fixture of shared/API.md"},
    {"--threads", "LATCHKEY_THREADS", OPT_UINT, OFF(threads), "worker threads (cores x 4, at least 16)"},
    {"--connection-limit", "LATCHKEY_CONNECTION_LIMIT", OPT_UINT, OFF(connection_limit),
     "open connections at most (10000)"},
    {"--timeout", "LATCHKEY_TIMEOUT", OPT_UINT, OFF(timeout_seconds),
     "seconds an idle connection is kept (10)"},
    {"--client-session-lifetime", "LATCHKEY_CLIENT_SESSION_LIFETIME", OPT_UINT,
     OFF(client_session_lifetime_seconds),
     "seconds a client session lives when created without expires_at (86400)"},
    {"--action-delay-ms", "LATCHKEY_ACTION_DELAY_MS", OPT_UINT, OFF(action_delay_ms),
     "milliseconds a device takes to act on a lock or unlock (300)"},
    {"--command-timeout-ms", "LATCHKEY_COMMAND_TIMEOUT_MS", OPT_UINT, OFF(command_timeout_ms),
     "milliseconds a real device has to report a lock or unlock before the attempt fails (15000)"},
    {"--link-lease-ms", "LATCHKEY_LINK_LEASE_MS", OPT_UINT, OFF(link_lease_ms),
     "milliseconds after a node dies before another takes over its real devices' connections (10000)"},
    {"--climate-degrees-per-hour", "LATCHKEY_CLIMATE_DEGREES_PER_HOUR", OPT_UINT,
     OFF(climate_degrees_per_hour),
     "degrees Celsius an hour a sandbox thermostat moves the temperature toward its set point; 0: never (30)"},
    {"--cache-mib", "LATCHKEY_CACHE_MIB", OPT_UINT, OFF(cache_mib),
     "MiB of memory for answers of read-only calls, kept until their workspace changes; 0: none (32)"},
    {"--name", "LATCHKEY_NAME", OPT_STR, OFF(name), "name (workspace create, api-key create)"},
    {"--workspace", "LATCHKEY_WORKSPACE", OPT_STR, OFF(workspace_id), "workspace id (api-key create)"},
    {"--sandbox", "LATCHKEY_SANDBOX", OPT_BOOL, OFF(sandbox), "make a sandbox workspace"},
};

static bool set_value(config *cfg, const option_def *o, const char *value, char *why,
                      size_t whylen, const char *source)
{
    void *field = (char *)cfg + o->offset;
    switch (o->type) {
    case OPT_STR:
        *(const char **)field = value;
        return true;
    case OPT_BOOL:
        *(bool *)field = strcmp(value, "0") != 0 && strcmp(value, "false") != 0 && *value;
        return true;
    case OPT_UINT: {
        char *end;
        errno = 0;
        unsigned long v = strtoul(value, &end, 10);
        if (errno || *end || end == value || v > 0xFFFFFFFFul) {
            snprintf(why, whylen, "%s: '%s' is not a whole number", source, value);
            return false;
        }
        *(unsigned *)field = (unsigned)v;
        return true;
    }
    }
    return false;
}

bool config_load(config *cfg, int argc, char **argv, int first, char *why, size_t whylen)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    *cfg = (config){
        .host = "127.0.0.1",
        .port = 3020,
        .data_dir = "./data",
        /* Threads are cheap; more of them keep a request that waits on a
         * busy database from holding up its thread's other connections. */
        .threads = (unsigned)(cores > 0 && cores * 4 > 16 ? cores * 4 : 16),
        .connection_limit = 10000,
        .timeout_seconds = 10,
        .cache_mib = 32,
        .client_session_lifetime_seconds = 86400,
        .action_delay_ms = 300,
        .command_timeout_ms = 15000,
        .link_lease_ms = 10000,
        .climate_degrees_per_hour = 30,
    };
    const size_t n = sizeof OPTIONS / sizeof *OPTIONS;
    for (size_t i = 0; i < n; i++) {
        const char *v = getenv(OPTIONS[i].env);
        if (v && !set_value(cfg, &OPTIONS[i], v, why, whylen, OPTIONS[i].env))
            return false;
    }
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');
        size_t flag_len = eq ? (size_t)(eq - arg) : strlen(arg);
        const option_def *o = NULL;
        for (size_t j = 0; j < n && !o; j++)
            if (strlen(OPTIONS[j].flag) == flag_len && strncmp(OPTIONS[j].flag, arg, flag_len) == 0)
                o = &OPTIONS[j];
        if (!o) {
            snprintf(why, whylen, "unknown option '%s'", arg);
            return false;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (!value && o->type == OPT_BOOL)
            value = "1";
        if (!value) {
            if (i + 1 >= argc) {
                snprintf(why, whylen, "%s needs a value", o->flag);
                return false;
            }
            value = argv[++i];
        }
        if (!set_value(cfg, o, value, why, whylen, o->flag))
            return false;
    }
    if (cfg->port > 65535) {
        snprintf(why, whylen, "port %u is out of range", cfg->port);
        return false;
    }
    if (cfg->threads == 0 || cfg->threads > 256) {
        snprintf(why, whylen, "threads must be between 1 and 256");
        return false;
    }
    if (cfg->command_timeout_ms < 100 || cfg->command_timeout_ms > 600000) {
        snprintf(why, whylen, "command-timeout-ms must be between 100 and 600000");
        return false;
    }
    if (cfg->link_lease_ms < 3000 || cfg->link_lease_ms > 600000) {
        snprintf(why, whylen, "link-lease-ms must be between 3000 and 600000 (leases are renewed every second)");
        return false;
    }
    if (cfg->climate_degrees_per_hour > 36000) {
        snprintf(why, whylen,
                 "climate-degrees-per-hour must be at most 36000 (ten degrees a second)");
        return false;
    }
    if (cfg->cache_mib > 65536) {
        snprintf(why, whylen, "cache-mib must be at most 65536");
        return false;
    }
    return true;
}

void config_usage(const char *program)
{
    fprintf(stderr,
            "usage:\n"
            "  %s serve [options]                      run the API server\n"
            "  %s workspace create --name NAME [--sandbox]\n"
            "  %s api-key create --workspace ID [--name NAME]\n"
            "  %s routes                               print the route table as JSON\n"
            "options (each also read from its environment variable):\n",
            program, program, program, program);
    for (size_t i = 0; i < sizeof OPTIONS / sizeof *OPTIONS; i++)
        fprintf(stderr, "  %-28s %-34s %s\n", OPTIONS[i].flag, OPTIONS[i].env, OPTIONS[i].help);
    fprintf(stderr, "  %-28s %-34s %s\n", "", "LATCHKEY_SECRET",
            "server secret, 64 hex characters (default: <data-dir>/secret.key)");
}
