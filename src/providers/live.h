/* Live providers: systems reached over a connection kept open per account
 * (a Zigbee2MQTT bridge on an MQTT broker, a Home Assistant). The account's
 * settings (addresses, logins, tokens) are one JSON object the provider
 * makes from the connect webview's form; latchkey stores it sealed and
 * hands it back to open the account's session. A session runs on threads
 * of its own and reports what happens at the devices through a sink. */
#ifndef LATCHKEY_PROVIDERS_LIVE_H
#define LATCHKEY_PROVIDERS_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "providers/provider.h"

/* A field of the connect webview's form. */
typedef struct live_field {
    const char *name;          /* the form's field name */
    const char *label;
    const char *type;          /* "text", "password", "url" */
    const char *placeholder;   /* or NULL */
    const char *default_value; /* or NULL */
    bool required;
} live_field;

/* What a session reports of one device; a field left unknown stays as the
 * store has it. */
typedef struct live_state {
    const char *key;       /* the provider's id for the device */
    int locked;            /* 1, 0, or -1 unknown */
    int online;            /* 1, 0, or -1 unknown */
    double battery_level;  /* 0..1, or < 0 unknown */
    bool jammed;           /* the lock reports it could not finish moving */
    const char *method;    /* how it was operated at the door: "manual",
                              "keycode", "automatic", "unknown"; NULL when the
                              report is not an operation */
    const char *refused;   /* the system refused a command to lock (refused_lock)
                              or unlock the device, and says why; NULL: not */
    bool refused_lock;
} live_state;

/* Why a session is down, in the API's terms. */
typedef enum live_down {
    LIVE_UNREACHABLE,     /* the broker or server cannot be reached */
    LIVE_BAD_CREDENTIALS, /* it refused the login or token */
} live_down;

/* Where a session reports; called on the session's own threads, never two
 * at once for one session. */
typedef struct live_sink {
    void *ctx;
    /* The account's whole device list (devices added or removed since
     * come again as a whole list). */
    void (*devices)(void *ctx, const provider_device *devices, size_t count);
    void (*state)(void *ctx, const live_state *st);
    /* The connection came up (and the device list will follow), or went
     * down: message is for people, never holds a credential. */
    void (*up)(void *ctx);
    void (*down)(void *ctx, live_down why, const char *message);
} live_sink;

typedef struct live_session live_session;

typedef struct live_ops {
    const live_field *fields;
    size_t field_count;
    /* The settings JSON from the form's values (fields' order), and the
     * account's login: what makes two connections the same account (for
     * example the broker and base topic, never a password). False, with a
     * message for the user, when a value is not acceptable. No I/O. */
    bool (*settings)(arena *a, const char *const *values, const char **settings,
                     const char **login, const char **why);
    /* Opens a session: it connects (and reconnects with backoff) on its own
     * threads until closed. NULL when it cannot start at all. */
    live_session *(*open)(const char *settings, const live_sink *sink);
    /* Asks the device to lock or unlock; the outcome comes as its state.
     * Does not block; false when the session cannot send now. */
    bool (*send)(live_session *s, const char *device_key, bool lock);
    /* Stops the session; no sink call runs after it returns. */
    void (*close)(live_session *s);
} live_ops;

extern const provider zigbee2mqtt_provider;    /* zigbee2mqtt.c */
extern const provider home_assistant_provider; /* home_assistant.c */

/* Waits up to timeout_ms until the threads of every session opened (and
 * closed since) have ended; whether they all have. For shutdown, after the
 * sessions are closed: a thread that ends releases what it holds (its
 * database connection), which it could not once the store is closed. */
bool live_links_wait(int64_t timeout_ms);

#endif
