#ifndef AS_RECORD_JSON_H
#define AS_RECORD_JSON_H

/*
 * Internal to authservice: one strict, table-driven JSON codec for the flat
 * records kept in the session store (session records, login states). A
 * schema lists the members of a C struct (name, type, offset, limits); the
 * same table drives decoding, encoding, deep copy, equality and freeing, so
 * each record type is a table and a few one-line wrappers.
 *
 * Decoding is strict: the document must be one JSON object of at most
 * max_document bytes, with no duplicate member, no member outside the
 * table, the version member equal to the schema's version, and every member
 * of the right type and within its limits. Error messages name members,
 * never values (records hold tokens).
 */

#include <stddef.h>
#include <stdint.h>

/** C type behind a member. */
typedef enum {
    AS__JSON_STRING,       /* char *, NUL-terminated, valid UTF-8 */
    AS__JSON_STRING_ARRAY, /* char ** with a size_t count at count_offset */
    AS__JSON_INT64,        /* int64_t within [min, max] */
} as__json_type_t;

/** Member must be present (strings and arrays: non-NULL). */
#define AS__JSON_REQUIRED 1u
/** Strings (and array entries) must not be empty. */
#define AS__JSON_NONEMPTY 2u

/** Extra check of a string value: returns NULL if fine, else a reason ("must start with '/'"). */
typedef const char *(*as__json_check_t)(const char *value, size_t len);

/** One member of a record. */
typedef struct {
    const char *name;
    as__json_type_t type;
    unsigned flags;
    size_t offset;       /* of the member in the struct */
    size_t count_offset; /* AS__JSON_STRING_ARRAY: of the size_t count */
    size_t max;          /* strings: bytes; arrays: entries (each entry is at most max_entry bytes) */
    size_t max_entry;    /* AS__JSON_STRING_ARRAY: bytes per entry */
    int64_t min_value;   /* AS__JSON_INT64 */
    int64_t max_value;   /* AS__JSON_INT64 */
    as__json_check_t check;
} as__json_field_t;

/** A record type. */
typedef struct {
    const char *what;           /* "session record", for messages */
    const char *version_member; /* name of the version member, always written first */
    uint32_t version;           /* the only version accepted and written */
    size_t version_offset;      /* of the uint32_t version in the struct */
    size_t struct_size;
    size_t max_document; /* bytes of JSON, both ways */
    const as__json_field_t *fields;
    size_t field_count;
} as__json_schema_t;

/**
 * Decodes json into a new zeroed struct of schema->struct_size bytes. Returns
 * 0 and sets *out, or -1 with a reason in err (may be NULL) and *out untouched.
 */
int as__json_decode(const as__json_schema_t *schema, const char *json, size_t len, void **out, char *err,
                    size_t err_size);

/**
 * Encodes obj as compact JSON (members in table order, absent optional
 * members left out). Applies the decoder's rules first, so whatever is
 * written can be read back. Returns a malloc'd string, or NULL with a reason
 * in err (may be NULL).
 */
char *as__json_encode(const as__json_schema_t *schema, const void *obj, char *err, size_t err_size);

/** Deep copy of obj into a new struct, or NULL when out of memory. */
void *as__json_copy(const as__json_schema_t *schema, const void *obj);

/** 1 if a and b hold the same values (NULL and NULL are equal), else 0. */
int as__json_equal(const as__json_schema_t *schema, const void *a, const void *b);

/** Frees obj and every string it owns, wiping them first (they may be secret). NULL is a no-op. */
void as__json_free(const as__json_schema_t *schema, void *obj);

#endif
