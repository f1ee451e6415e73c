/* Command-line configuration: every flag has a LATCHKEY_* environment twin;
 * a flag wins over its twin, and the twin over the default. */
#ifndef LATCHKEY_CONFIG_H
#define LATCHKEY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct config {
    const char *host;
    unsigned port;
    const char *data_dir;
    const char *database_url;  /* NULL: sqlite:<data_dir>/latchkey.db */
    const char *public_url;    /* NULL: http://<host>:<port> */
    bool seed;
    unsigned threads;
    unsigned connection_limit;
    unsigned timeout_seconds;
    unsigned client_session_lifetime_seconds;
    unsigned action_delay_ms;
    unsigned command_timeout_ms;
    unsigned link_lease_ms;
    unsigned cache_mib; /* answer cache; 0: off */
    unsigned climate_degrees_per_hour; /* sandbox thermostats' pace; 0: they never move */
    /* admin commands */
    const char *name;
    const char *workspace_id;
    bool sandbox;
} config;

/* Fills cfg from defaults, the environment, then argv[first..]. On a bad
 * flag writes the reason to why and returns false. */
bool config_load(config *cfg, int argc, char **argv, int first, char *why, size_t whylen);
void config_usage(const char *program);

#endif
