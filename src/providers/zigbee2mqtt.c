/* The zigbee2mqtt provider (live.h): a Zigbee2MQTT bridge on an MQTT broker,
 * through libmosquitto. Devices are the bridge's devices that expose a lock
 * (<base>/bridge/devices); their state comes from <base>/<name> and
 * <base>/<name>/availability; commands go to <base>/<name>/set. The session
 * is up while the broker is connected and the bridge says it is online
 * (<base>/bridge/state): a command published while Zigbee2MQTT is not
 * there would be lost, so it waits for the bridge instead. Commands go with
 * QoS 0, so that only latchkey sends one again (when the bridge is back),
 * never libmosquitto as well. */
#include <errno.h>
#include <jansson.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ids.h"
#include "core/json_text.h"
#include "providers/live.h"
#include "providers/live_util.h"

enum { KEEPALIVE_S = 30, LOOP_MS = 200 };

static const live_field FIELDS[] = {
    {"broker", "Broker address", "url", "mqtt://192.168.1.10:1883", NULL, true},
    {"username", "Username (if the broker asks for one)", "text", NULL, NULL, false},
    {"password", "Password", "password", NULL, NULL, false},
    {"base_topic", "Base topic", "text", NULL, "zigbee2mqtt", true},
};

/* A bridge device that is a lock, by its friendly name (what topics use). */
typedef struct z2m_lock {
    char *name;
    char *ieee;
} z2m_lock;

struct live_session {
    live_link link; /* thread, stop flag, sink guard (live_util.h) */
    struct mosquitto *mosq;
    live_address addr;
    char *username, *password, *base;
    size_t base_len;
    /* Locks of the last device list: written by the session's thread,
     * read by senders, under mu. */
    pthread_mutex_t mu;
    z2m_lock *locks;
    size_t lock_count;
    /* On this connection (the session's thread): the bridge said it is
     * online; its device list came; the session was reported up. */
    bool bridge_online, listed, up;
    _Atomic bool ready; /* up: commands can go */
};

static bool valid_topic_part(const char *s)
{
    return *s && !strpbrk(s, "+#") && s[0] != '/' && s[strlen(s) - 1] != '/';
}

static bool z2m_settings(arena *a, const char *const *values, const char **settings,
                         const char **login, const char **why)
{
    live_address addr;
    bool parsed = live_address_parse(values[0], "mqtt", 1883, "mqtts", 8883, &addr);
    if (!parsed || *addr.path) {
        if (parsed)
            live_address_free(&addr);
        *why = "The broker address must look like mqtt://host:1883 or mqtts://host:8883.";
        return false;
    }
    const char *host = arena_strdup(a, addr.host);
    live_address_free(&addr);
    const char *base = values[3] && *values[3] ? values[3] : "zigbee2mqtt";
    if (!valid_topic_part(base) || strlen(base) > 200) {
        *why = "The base topic must not be empty, start or end with /, or hold + or #.";
        return false;
    }
    json_t *o = json_pack("{s:s, s:i, s:b, s:s}", "host", host, "port", addr.port, "tls",
                          addr.tls, "base_topic", base);
    if (values[1] && *values[1])
        json_object_set_new(o, "username", json_string(values[1]));
    if (values[2] && *values[2])
        json_object_set_new(o, "password", json_string(values[2]));
    *settings = json_text(a, o);
    *login = arena_sprintf(a, "%s://%s:%d/%s", addr.tls ? "mqtts" : "mqtt", host,
                           addr.port, base);
    return true;
}

static void free_locks(live_session *s)
{
    for (size_t i = 0; i < s->lock_count; i++) {
        free(s->locks[i].name);
        free(s->locks[i].ieee);
    }
    free(s->locks);
    s->locks = NULL;
    s->lock_count = 0;
}

static const z2m_lock *find_lock(const live_session *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->lock_count; i++)
        if (strlen(s->locks[i].name) == len && memcmp(s->locks[i].name, name, len) == 0)
            return &s->locks[i];
    return NULL;
}

static bool exposes_lock(json_t *exposes)
{
    size_t i;
    json_t *e;
    json_array_foreach(exposes, i, e) {
        const char *type = json_string_value(json_object_get(e, "type"));
        if (type && strcmp(type, "lock") == 0)
            return true;
    }
    return false;
}

/* Yale, Schlage... as Seam names their locks; others as a hub's lock. */
static void vendor_type(arena *a, const char *vendor, provider_device *d)
{
    static const char *const KNOWN[] = {"yale", "schlage", "kwikset", "nuki", "august", "ultraloq"};
    d->device_type = "smartthings_lock";
    d->manufacturer = NULL;
    if (!vendor)
        return;
    char *lower = arena_strdup(a, vendor);
    for (char *p = lower; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    d->manufacturer = lower;
    for (size_t i = 0; i < sizeof KNOWN / sizeof *KNOWN; i++)
        if (strcmp(lower, KNOWN[i]) == 0)
            d->device_type = arena_sprintf(a, "%s_lock", KNOWN[i]);
}

/* Up once the bridge is online and its devices are known (their names are
 * the command topics); down when the bridge goes offline. */
static void report(live_session *s)
{
    bool up = s->bridge_online && s->listed;
    if (up == s->up)
        return;
    s->up = up;
    atomic_store(&s->ready, up);
    if (up)
        live_link_up(&s->link);
    else if (s->listed)
        live_link_refused(&s->link, LIVE_UNREACHABLE,
                          "The Zigbee2MQTT bridge is offline (not connected to the broker).");
}

/* Asks each lock for its state: the retained state of a lock may have
 * come before the device list that names it. */
static void ask_states(live_session *s)
{
    for (size_t i = 0; i < s->lock_count; i++) {
        char *topic = live_sprintf("%s/%s/get", s->base, s->locks[i].name);
        if (topic)
            mosquitto_publish(s->mosq, NULL, topic, 12, "{\"state\":\"\"}", 1, false);
        free(topic);
    }
}

static void on_bridge_devices(live_session *s, json_t *list)
{
    arena a;
    arena_init(&a);
    size_t n = json_array_size(list), count = 0;
    provider_device *devices = arena_zalloc(&a, (n ? n : 1) * sizeof *devices);
    pthread_mutex_lock(&s->mu);
    free_locks(s);
    s->locks = calloc(n ? n : 1, sizeof *s->locks);
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d) {
        json_t *def = json_object_get(d, "definition");
        const char *ieee = json_string_value(json_object_get(d, "ieee_address"));
        const char *name = json_string_value(json_object_get(d, "friendly_name"));
        if (!s->locks || !ieee || !name || !exposes_lock(json_object_get(def, "exposes")) ||
            json_is_true(json_object_get(d, "disabled")))
            continue;
        s->locks[s->lock_count++] = (z2m_lock){strdup(name), strdup(ieee)};
        provider_device *pd = &devices[count++];
        pd->key = ieee;
        pd->name = name;
        pd->model = json_string_value(json_object_get(def, "model"));
        vendor_type(&a, json_string_value(json_object_get(def, "vendor")), pd);
        pd->online = true;
        pd->locked = -1; /* not known until its state comes: ask_states() */
        pd->battery_level = -1;
        pd->can_remotely_lock = pd->can_remotely_unlock = true;
    }
    pthread_mutex_unlock(&s->mu);
    live_link_devices(&s->link, devices, count);
    ask_states(s);
    arena_free(&a);
    s->listed = true;
    report(s);
}

/* Zigbee2MQTT's action_source_name (or the action's prefix) as Seam's
 * lock event method. */
static const char *method_of(const char *action, const char *source)
{
    static const struct {
        const char *z2m, *seam;
    } METHODS[] = {{"manual", "manual"}, {"keypad", "keycode"}, {"rfid", "keycode"},
                   {"fingerprint", "keycode"}, {"auto", "automatic"}, {"one_touch", "manual"}};
    const char *what = source ? source : action;
    for (size_t i = 0; what && i < sizeof METHODS / sizeof *METHODS; i++)
        if (strncmp(what, METHODS[i].z2m, strlen(METHODS[i].z2m)) == 0)
            return METHODS[i].seam;
    return "unknown";
}

static void on_state(live_session *s, const z2m_lock *l, json_t *o)
{
    live_state st = {.key = l->ieee, .locked = -1, .online = -1, .battery_level = -1};
    const char *state = json_string_value(json_object_get(o, "state"));
    const char *lock_state = json_string_value(json_object_get(o, "lock_state"));
    if (lock_state && strcmp(lock_state, "not_fully_locked") == 0)
        st.jammed = true;
    else if (lock_state && (strcmp(lock_state, "locked") == 0 || strcmp(lock_state, "unlocked") == 0))
        st.locked = strcmp(lock_state, "locked") == 0;
    else if (state && (strcasecmp(state, "LOCK") == 0 || strcasecmp(state, "UNLOCK") == 0))
        st.locked = strcasecmp(state, "LOCK") == 0;
    json_t *battery = json_object_get(o, "battery");
    if (json_is_number(battery) && json_number_value(battery) >= 0 && json_number_value(battery) <= 100)
        st.battery_level = json_number_value(battery) / 100.0;
    const char *action = json_string_value(json_object_get(o, "action"));
    if (action && *action)
        st.method = method_of(action, json_string_value(json_object_get(o, "action_source_name")));
    live_link_state(&s->link, &st);
}


/* {"state":"online"} since Zigbee2MQTT 1.27, plain "online" before (the
 * same for a device's availability). */
static bool says_online(const void *payload, int len)
{
    json_t *o = json_loadb(payload, (size_t)len, 0, NULL);
    const char *v = o ? json_string_value(json_object_get(o, "state")) : NULL;
    bool online = v ? strcmp(v, "online") == 0 : len == 6 && memcmp(payload, "online", 6) == 0;
    json_decref(o);
    return online;
}

static void on_bridge_state(live_session *s, bool online)
{
    s->bridge_online = online;
    report(s);
}

static void on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    (void)m;
    live_session *s = ud;
    const char *topic = msg->topic;
    if (strncmp(topic, s->base, s->base_len) != 0 || topic[s->base_len] != '/')
        return;
    const char *rest = topic + s->base_len + 1;
    if (strcmp(rest, "bridge/state") == 0) {
        on_bridge_state(s, says_online(msg->payload, msg->payloadlen));
        return;
    }
    if (strcmp(rest, "bridge/devices") == 0) {
        json_t *list = json_loadb(msg->payload, (size_t)msg->payloadlen, 0, NULL);
        if (json_is_array(list))
            on_bridge_devices(s, list);
        json_decref(list);
        return;
    }
    static const char AVAILABILITY[] = "/availability";
    size_t len = strlen(rest), alen = sizeof AVAILABILITY - 1;
    if (len > alen && strcmp(rest + len - alen, AVAILABILITY) == 0) {
        const z2m_lock *l = find_lock(s, rest, len - alen);
        if (l) {
            live_state st = {.key = l->ieee, .locked = -1, .battery_level = -1,
                             .online = says_online(msg->payload, msg->payloadlen)};
            live_link_state(&s->link, &st);
        }
        return;
    }
    const z2m_lock *l = find_lock(s, rest, len);
    if (!l || msg->payloadlen == 0)
        return;
    json_t *o = json_loadb(msg->payload, (size_t)msg->payloadlen, 0, NULL);
    if (json_is_object(o))
        on_state(s, l, o);
    json_decref(o);
}

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    live_session *s = ud;
    if (rc != 0) {
        /* CONNACK 4: bad user name or password; 5: not authorized. */
        live_link_refused(&s->link, rc == 4 || rc == 5 ? LIVE_BAD_CREDENTIALS : LIVE_UNREACHABLE,
                          rc == 4 || rc == 5 ? "The broker refused the username or password."
                                             : "The broker refused the connection.");
        mosquitto_disconnect(m);
        return;
    }
    char *topic = malloc(s->base_len + 3);
    if (topic) {
        memcpy(topic, s->base, s->base_len);
        memcpy(topic + s->base_len, "/#", 3);
        mosquitto_subscribe(m, NULL, topic, 1);
        free(topic);
    }
    /* Up once the bridge's retained state and device list have come. */
}

/* One connection, until it ends; false when it could not be made. */
static bool connect_once(live_link *link)
{
    live_session *s = (live_session *)link;
    s->bridge_online = s->listed = s->up = false;
    atomic_store(&s->ready, false);
    int rc = mosquitto_connect(s->mosq, s->addr.host, s->addr.port, KEEPALIVE_S);
    if (rc != MOSQ_ERR_SUCCESS) {
        live_link_refused(link, LIVE_UNREACHABLE,
                          rc == MOSQ_ERR_ERRNO && errno == ECONNREFUSED
                              ? "The broker refused the connection (nothing listens there)."
                              : "The broker cannot be reached.");
        return false;
    }
    while (!live_link_stopping(link) && mosquitto_loop(s->mosq, LOOP_MS, 1) == MOSQ_ERR_SUCCESS)
        ;
    mosquitto_disconnect(s->mosq);
    if (!live_link_stopping(link) && !live_link_refused_now(link))
        live_link_refused(link, LIVE_UNREACHABLE, "The connection to the broker was lost.");
    return true;
}

static void session_free(live_link *link)
{
    live_session *s = (live_session *)link;
    if (s->mosq)
        mosquitto_destroy(s->mosq);
    free_locks(s);
    pthread_mutex_destroy(&s->mu);
    free(s->username);
    free(s->password);
    free(s->base);
    live_address_free(&s->addr);
    free(s);
}

static pthread_once_t library_once = PTHREAD_ONCE_INIT;

static void library_init(void) { mosquitto_lib_init(); }

static live_session *z2m_open(const char *settings, const live_sink *sink)
{
    pthread_once(&library_once, library_init);
    json_t *o = json_loads(settings, 0, NULL);
    const char *host = json_string_value(json_object_get(o, "host"));
    const char *base = json_string_value(json_object_get(o, "base_topic"));
    live_session *s = calloc(1, sizeof *s);
    if (!s || !host || !base) {
        free(s);
        json_decref(o);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    s->addr.host = strdup(host);
    s->addr.port = (int)json_integer_value(json_object_get(o, "port"));
    s->addr.tls = json_is_true(json_object_get(o, "tls"));
    s->base = strdup(base);
    s->base_len = strlen(base);
    const char *user = json_string_value(json_object_get(o, "username"));
    const char *pass = json_string_value(json_object_get(o, "password"));
    s->username = user ? strdup(user) : NULL;
    s->password = pass ? strdup(pass) : NULL;
    json_decref(o);
    char client_id[UUID_STR_LEN + 9] = "latchkey-";
    uuid_v4(client_id + 9);
    s->mosq = mosquitto_new(client_id, true, s);
    if (!s->mosq) {
        session_free(&s->link);
        return NULL;
    }
    mosquitto_threaded_set(s->mosq, true);
    mosquitto_username_pw_set(s->mosq, s->username, s->password);
    if (s->addr.tls)
        mosquitto_int_option(s->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
    mosquitto_connect_callback_set(s->mosq, on_connect);
    mosquitto_message_callback_set(s->mosq, on_message);
    if (!live_link_start(&s->link, sink, connect_once, session_free))
        return NULL;
    return s;
}

static bool z2m_send(live_session *s, const char *device_key, bool lock)
{
    char *topic = NULL;
    if (!atomic_load(&s->ready))
        return false; /* sent when the session is up again (live_sink.up) */
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->lock_count && !topic; i++)
        if (strcmp(s->locks[i].ieee, device_key) == 0)
            topic = live_sprintf("%s/%s/set", s->base, s->locks[i].name);
    pthread_mutex_unlock(&s->mu);
    if (!topic)
        return false;
    const char *payload = lock ? "{\"state\":\"LOCK\"}" : "{\"state\":\"UNLOCK\"}";
    int rc = mosquitto_publish(s->mosq, NULL, topic, (int)strlen(payload), payload, 0, false);
    free(topic);
    return rc == MOSQ_ERR_SUCCESS;
}

static void z2m_close(live_session *s) { live_link_stop(&s->link); }

static const live_ops Z2M_OPS = {
    .fields = FIELDS,
    .field_count = sizeof FIELDS / sizeof *FIELDS,
    .settings = z2m_settings,
    .open = z2m_open,
    .send = z2m_send,
    .close = z2m_close,
};

const provider zigbee2mqtt_provider = {
    .name = "zigbee2mqtt",
    .display_name = "Zigbee2MQTT",
    .manufacturer = "zigbee2mqtt",
    .category = DEVICE_LOCK,
    .device_type = "smartthings_lock",
    .live = &Z2M_OPS,
};
