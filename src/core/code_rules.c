/* Access-code rules of a lock (code_rules.h). */
#include "core/code_rules.h"

#include <jansson.h>
#include <sodium.h>
#include <string.h>

static const struct {
    const char *type;
    const char *properties;
} SANDBOX[] = {
    {"august_lock", "{\"supported_code_lengths\":[4,5,6,7,8],\"max_active_codes_supported\":250,"
                    "\"code_constraints\":[],\"supports_backup_access_code_pool\":true,"
                  "\"backup_access_code_pool_enabled\":true}"},
    {"schlage_lock", "{\"supported_code_lengths\":[4,5,6,7,8],\"max_active_codes_supported\":20,"
                     "\"code_constraints\":[{\"constraint_type\":\"name_length\",\"max_length\":9}],"
                     "\"supports_backup_access_code_pool\":false}"},
    {"yale_lock", "{\"supported_code_lengths\":[4,5,6,7,8,9,10],\"max_active_codes_supported\":250,"
                  "\"code_constraints\":[],\"supports_backup_access_code_pool\":true,"
                  "\"backup_access_code_pool_enabled\":true}"},
    {"nuki_lock", "{\"supported_code_lengths\":[6],\"max_active_codes_supported\":100,"
                  "\"code_constraints\":[{\"constraint_type\":\"no_zeros\"},"
                  "{\"constraint_type\":\"cannot_start_with_12\"},"
                  "{\"constraint_type\":\"name_length\",\"min_length\":1,\"max_length\":20}],"
                  "\"supports_backup_access_code_pool\":false}"},
};

const char *code_rules_sandbox_properties(const char *device_type)
{
    for (size_t i = 0; i < sizeof SANDBOX / sizeof *SANDBOX; i++)
        if (strcmp(SANDBOX[i].type, device_type) == 0)
            return SANDBOX[i].properties;
    return NULL;
}

static void read_constraint(code_rules *r, json_t *c)
{
    const char *type = json_string_value(json_object_get(c, "constraint_type"));
    if (!type)
        return;
    if (strcmp(type, "no_zeros") == 0)
        r->no_zeros = true;
    else if (strcmp(type, "cannot_start_with_12") == 0)
        r->cannot_start_with_12 = true;
    else if (strcmp(type, "name_length") == 0) {
        r->name_min = (int)json_integer_value(json_object_get(c, "min_length"));
        r->name_max = (int)json_integer_value(json_object_get(c, "max_length"));
    }
}

code_rules code_rules_of(const char *extra_properties)
{
    code_rules r = {0};
    json_t *p = extra_properties ? json_loads(extra_properties, 0, NULL) : NULL;
    json_t *lengths = json_object_get(p, "supported_code_lengths");
    if (json_is_array(lengths)) {
        size_t i;
        json_t *v;
        json_array_foreach(lengths, i, v)
            if (r.nlengths < (int)(sizeof r.lengths / sizeof *r.lengths) && json_is_integer(v) &&
                json_integer_value(v) > 0 && json_integer_value(v) <= 16)
                r.lengths[r.nlengths++] = (int)json_integer_value(v);
        /* A lock that names no length it takes takes no codes (and none
         * could be generated for it). */
        r.supported = r.nlengths > 0;
        r.max_active = json_integer_value(json_object_get(p, "max_active_codes_supported"));
        r.backup_pool_supported = json_is_true(json_object_get(p, "supports_backup_access_code_pool"));
        /* On unless devices/update turned it off. */
        r.backup_pool = r.backup_pool_supported &&
                        !json_is_false(json_object_get(p, "backup_access_code_pool_enabled"));
        size_t j;
        json_t *c;
        json_array_foreach(json_object_get(p, "code_constraints"), j, c)
            read_constraint(&r, c);
    }
    json_decref(p);
    return r;
}

static bool length_supported(const code_rules *r, int length)
{
    for (int i = 0; i < r->nlengths; i++)
        if (r->lengths[i] == length)
            return true;
    return false;
}

const char *code_rules_check_code(const code_rules *r, const char *code)
{
    size_t n = strlen(code);
    if (n == 0 || strspn(code, "0123456789") != n)
        return "An access code is made of digits only.";
    if (!length_supported(r, (int)n))
        return "The device does not support access codes of this length"
               " (see its properties.supported_code_lengths).";
    if (r->no_zeros && strchr(code, '0'))
        return "The device does not accept a 0 in access codes (code constraint no_zeros).";
    if (r->cannot_start_with_12 && strncmp(code, "12", 2) == 0)
        return "The device does not accept access codes starting with 12"
               " (code constraint cannot_start_with_12).";
    return NULL;
}

const char *code_rules_check_name(const code_rules *r, const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (r->name_max && n > (size_t)r->name_max)
        return "The name is longer than the device allows (code constraint name_length).";
    if (r->name_min && name && n < (size_t)r->name_min)
        return "The name is shorter than the device allows (code constraint name_length).";
    return NULL;
}

const char *code_rules_generate(const code_rules *r, arena *a, int length)
{
    if (!length_supported(r, length))
        length = r->nlengths ? r->lengths[0] : 4;
    char *code = arena_alloc(a, (size_t)length + 1);
    do {
        for (int i = 0; i < length; i++) {
            uint32_t digit = r->no_zeros ? 1 + randombytes_uniform(9) : randombytes_uniform(10);
            code[i] = (char)('0' + digit);
        }
        code[length] = '\0';
    } while (code_rules_check_code(r, code));
    return code;
}
