/* What a lock allows of access codes: the properties a device that takes
 * codes reports (supported_code_lengths, max_active_codes_supported,
 * code_constraints, supports_backup_access_code_pool and
 * backup_access_code_pool_enabled), kept in the device's
 * stored properties, and the checks and code generation that follow from
 * them. The sandbox locks' properties come from here, by device type. */
#ifndef LATCHKEY_CODE_RULES_H
#define LATCHKEY_CODE_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"

/* The access-code properties of a sandbox lock of this type (a serialized
 * object), or NULL when the type takes no codes. */
const char *code_rules_sandbox_properties(const char *device_type);

typedef struct code_rules {
    bool supported;          /* the device takes access codes */
    int lengths[16];         /* supported code lengths */
    int nlengths;
    int64_t max_active;      /* 0: no limit */
    bool backup_pool_supported; /* supports_backup_access_code_pool */
    bool backup_pool;        /* ... and backup_access_code_pool_enabled */
    bool no_zeros;
    bool cannot_start_with_12;
    int name_min, name_max;  /* name_length; 0: none */
} code_rules;

/* The rules in a device's stored properties (NULL: none). */
code_rules code_rules_of(const char *extra_properties);
/* Why code cannot be an access code on the device, or NULL when it can. */
const char *code_rules_check_code(const code_rules *r, const char *code);
/* Why name cannot be an access code's name on the device, or NULL. */
const char *code_rules_check_name(const code_rules *r, const char *name);
/* A random code the device accepts, of `length` digits when the device
 * supports that length (else its first supported length). */
const char *code_rules_generate(const code_rules *r, arena *a, int length);

#endif
