#ifndef AS_STORE_H
#define AS_STORE_H

/*
 * Session store: a key-value store with TTLs behind one const function table,
 * with an sqlite3 backend (embedded, one file shared by the workers) and a
 * Redis backend (hiredis async on libuv, direct or through Sentinel).
 *
 * A handle belongs to ONE libuv loop and is used only from that loop's thread;
 * each worker opens its own. Every op takes a callback and returns 0 when the
 * callback WILL be called exactly once, or -1 when the op could not be started
 * (bad key, value, TTL or member, out of memory, handle closing): then the
 * callback is never called and nothing changed.
 *
 * When the callback runs: the sqlite backend is synchronous, so its callback
 * runs BEFORE the op returns. The Redis backend's callback always runs later,
 * from the loop. Code that works with both must not assume either.
 *
 * Keys (and set names) are 1..AS_STORE_MAX_KEY bytes of printable ASCII
 * without spaces (0x21..0x7e); the handle's key prefix is prepended to each.
 * Keys and set names share one namespace: a name holds either a value or a
 * set, and using it as the other kind is a caller error (Redis answers
 * AS_STORE_ERROR; sqlite keeps the two apart). Values are 0..AS_STORE_MAX_VALUE
 * arbitrary bytes. Set members are NUL-terminated strings of
 * 1..AS_STORE_MAX_MEMBER bytes.
 *
 * Design notes: docs/internals/session-store.md.
 */

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/** Longest key or set name, without the prefix. */
#define AS_STORE_MAX_KEY 65536
/** Longest value. */
#define AS_STORE_MAX_VALUE 65536
/** Longest set member. */
#define AS_STORE_MAX_MEMBER 65536
/** Longest key prefix. */
#define AS_STORE_MAX_PREFIX 128
/** Longest TTL accepted (ten years), so expiry times never overflow. */
#define AS_STORE_MAX_TTL_MS (10ULL * 366 * 24 * 3600 * 1000)
/** Key prefix used when the options give none. */
#define AS_STORE_DEFAULT_PREFIX "tenantgate:"

/** Outcome of a store op, passed to its callback. */
typedef enum {
    AS_STORE_OK,          /* done; get/take carry the value, set_members the members */
    AS_STORE_NOT_FOUND,   /* no live entry (absent or expired); del/set_remove: nothing removed */
    AS_STORE_EXISTS,      /* add: a live entry already holds the key, it was left unchanged */
    AS_STORE_UNAVAILABLE, /* backend not reachable or busy (sqlite lock, Redis down, too many in flight) */
    AS_STORE_TIMEOUT,     /* Redis: sent, but no reply within the command timeout; it may have run */
    AS_STORE_ERROR        /* the backend refused or failed (wrong type, I/O error, out of memory) */
} as_store_status_t;

/** Stable lowercase name of a status for logs and metrics ("ok", "not_found", ...). */
const char *as_store_status_text(as_store_status_t status);

/**
 * Result of a value op. value is NULL unless status is AS_STORE_OK and the op
 * returns a value (get, take), and is valid only during the call (not
 * NUL-terminated; an empty value is "" with len 0).
 */
typedef void (*as_store_cb)(void *data, as_store_status_t status, const char *value, size_t len);

/**
 * Result of set_members: count members (each NUL-terminated, lens[i] bytes),
 * in no particular order, valid only during the call. A set that does not
 * exist is AS_STORE_OK with count 0.
 */
typedef void (*as_store_members_cb)(void *data, as_store_status_t status, const char *const *members,
                                    const size_t *lens, size_t count);

/** One open store handle (opaque). */
typedef struct as_store as_store_t;

/**
 * A backend's function table. Callers use the as_store_* wrappers below,
 * which validate every argument and add the key prefix; the table receives
 * prefixed, validated keys. Return values and callbacks as described above.
 */
typedef struct {
    const char *name; /* "sqlite", "redis" */
    /** Value of key. */
    int (*get)(as_store_t *s, const char *key, as_store_cb cb, void *data);
    /** Stores value under key for ttl_ms, replacing any value and TTL. */
    int (*set)(as_store_t *s, const char *key, const char *value, size_t len, uint64_t ttl_ms, as_store_cb cb,
               void *data);
    /** Like set, but only if no live entry holds key: AS_STORE_EXISTS otherwise (locks, single-flight). */
    int (*add)(as_store_t *s, const char *key, const char *value, size_t len, uint64_t ttl_ms, as_store_cb cb,
               void *data);
    /** Returns the value of key and deletes it, atomically: of two takes only one gets it. */
    int (*take)(as_store_t *s, const char *key, as_store_cb cb, void *data);
    /** Deletes key, whether it holds a value or a set. */
    int (*del)(as_store_t *s, const char *key, as_store_cb cb, void *data);
    /** Adds member to set; the set expires ttl_ms from now or later (never earlier than before). */
    int (*set_add)(as_store_t *s, const char *set, const char *member, uint64_t ttl_ms, as_store_cb cb,
                   void *data);
    /** Removes member from set: AS_STORE_NOT_FOUND if it was not there. */
    int (*set_remove)(as_store_t *s, const char *set, const char *member, as_store_cb cb, void *data);
    /** All members of set. */
    int (*set_members)(as_store_t *s, const char *set, as_store_members_cb cb, void *data);
    /** Frees the handle; see as_store_close. */
    void (*close)(as_store_t *s);
} as_store_ops_t;

/** Options of as_store_open; zero means the default, NULL options means all defaults. */
typedef struct {
    const char *key_prefix; /* NULL: AS_STORE_DEFAULT_PREFIX; "" allowed; printable, no spaces */
    const char
        *password_file; /* redis: read the password from this file (first line); re-read on reconnect */
    uint32_t command_timeout_ms; /* redis: 200 */
    uint32_t connect_timeout_ms; /* redis: 500, per connection (Sentinel or data) including AUTH/SELECT */
    uint32_t reconnect_min_ms;   /* redis: first reconnect delay, 100; doubles (with jitter) ... */
    uint32_t reconnect_max_ms;   /* redis: ... up to 5000 */
    uint32_t max_pending;        /* redis: ops in flight before new ones get UNAVAILABLE, 4096 */
    uint32_t busy_timeout_ms;    /* sqlite: how long a write waits for another writer's lock, 50 */
    uint32_t purge_interval_ms;  /* sqlite: period of the expired-row purge, 60000 */
    uint32_t purge_batch;        /* sqlite: most rows a purge pass deletes per table, 500 */
} as_store_options_t;

/** Which backend a URL names. */
typedef enum { AS_STORE_URL_SQLITE, AS_STORE_URL_REDIS, AS_STORE_URL_SENTINEL } as_store_url_kind_t;

/** Most Sentinel hosts a URL may list. */
#define AS_STORE_URL_MAX_HOSTS 8

/** A parsed store URL (strings owned by it; free with as_store_url_free). */
typedef struct {
    as_store_url_kind_t kind;
    char *path; /* sqlite: the file path as written (absolute for sqlite:///...) */
    struct {
        char *host; /* name, IPv4, or IPv6 without brackets */
        uint16_t port;
    } hosts[AS_STORE_URL_MAX_HOSTS]; /* redis: 1, sentinel: 1..AS_STORE_URL_MAX_HOSTS */
    size_t host_count;
    char *master_name; /* sentinel */
    char *username;    /* redis ACL user, NULL when absent */
    char *password;    /* NULL when absent; percent-decoded; wiped by as_store_url_free */
    unsigned db;       /* redis database number, default 0 */
} as_store_url_t;

/**
 * Parses a store URL strictly:
 *   sqlite:///abs/path/sessions.db  or  sqlite:relative/path (resolved by the caller)
 *   redis://[[user]:password@]host[:port][/db]                    (port 6379, db 0)
 *   redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/mastername[/db]  (port 26379)
 * The password is the data server's; reserved characters in it are
 * percent-encoded. Returns 0, or -1 with a message in err that never contains
 * the password (nor the URL). out is zeroed first and owns nothing after -1.
 */
int as_store_url_parse(const char *url, as_store_url_t *out, char *err, size_t errlen);

/** Frees the strings of a parsed URL, wiping the password first. */
void as_store_url_free(as_store_url_t *url);

/**
 * Opens a store handle for url on loop. sqlite opens (and creates, mode 0600)
 * the file now; Redis starts connecting and returns at once: ops issued while
 * a connection attempt is in progress wait for it (up to the command
 * timeout). Returns 0 and sets *out, or -1 with a message in err (no secret
 * in it) and *out NULL.
 */
int as_store_open(const char *url, const as_store_options_t *options, uv_loop_t *loop, as_store_t **out,
                  char *err, size_t errlen);

/**
 * Closes the handle. Callbacks of ops still in flight run before it returns
 * (with AS_STORE_UNAVAILABLE); none runs afterwards. Safe to call from inside
 * one of the handle's own callbacks. Its libuv handles finish closing on the
 * next loop iteration, so run the loop before closing the loop. NULL is a no-op.
 */
void as_store_close(as_store_t *store);

/** The backend's name ("sqlite", "redis"). */
const char *as_store_backend(const as_store_t *store);

/** Gets key. */
int as_store_get(as_store_t *store, const char *key, as_store_cb cb, void *data);
/** Sets key to value for ttl_ms (> 0). */
int as_store_set(as_store_t *store, const char *key, const void *value, size_t len, uint64_t ttl_ms,
                 as_store_cb cb, void *data);
/** Sets key to value for ttl_ms (> 0) if no live entry holds it, else AS_STORE_EXISTS. */
int as_store_add(as_store_t *store, const char *key, const void *value, size_t len, uint64_t ttl_ms,
                 as_store_cb cb, void *data);
/** Gets key and deletes it atomically (one-time values such as pending-login state). */
int as_store_take(as_store_t *store, const char *key, as_store_cb cb, void *data);
/** Deletes key (a value or a whole set); AS_STORE_NOT_FOUND if nothing live was there. */
int as_store_del(as_store_t *store, const char *key, as_store_cb cb, void *data);
/** Adds member to set and makes the set live at least ttl_ms (> 0) more. */
int as_store_set_add(as_store_t *store, const char *set, const char *member, uint64_t ttl_ms, as_store_cb cb,
                     void *data);
/** Removes member from set; AS_STORE_NOT_FOUND if it was not a member. */
int as_store_set_remove(as_store_t *store, const char *set, const char *member, as_store_cb cb, void *data);
/** Lists the members of set (none if it does not exist). */
int as_store_set_members(as_store_t *store, const char *set, as_store_members_cb cb, void *data);

#endif
