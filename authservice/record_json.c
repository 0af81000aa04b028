#include "record_json.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_error(char *err, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_error(char *err, size_t size, const char *fmt, ...)
{
    if (err == NULL || size == 0)
        return;
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, size, fmt, args);
    va_end(args);
}

static char **string_at(void *obj, size_t offset)
{
    return (char **)((char *)obj + offset);
}

static char *const *const_string_at(const void *obj, size_t offset)
{
    return (char *const *)((const char *)obj + offset);
}

static char ***array_at(void *obj, size_t offset)
{
    return (char ***)((char *)obj + offset);
}

static char **const *const_array_at(const void *obj, size_t offset)
{
    return (char **const *)((const char *)obj + offset);
}

static size_t *count_at(void *obj, size_t offset)
{
    return (size_t *)((char *)obj + offset);
}

static size_t const_count_at(const void *obj, size_t offset)
{
    return *(const size_t *)((const char *)obj + offset);
}

static int64_t *int_at(void *obj, size_t offset)
{
    return (int64_t *)((char *)obj + offset);
}

static int64_t const_int_at(const void *obj, size_t offset)
{
    return *(const int64_t *)((const char *)obj + offset);
}

static uint32_t *version_at(void *obj, size_t offset)
{
    return (uint32_t *)((char *)obj + offset);
}

/* Whether a member name may be quoted in a message: short printable ASCII. */
static int printable_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 64)
        return 0;
    for (size_t i = 0; i < len; ++i)
        if (name[i] < 0x20 || name[i] > 0x7e || name[i] == '"' || name[i] == '\\')
            return 0;
    return 1;
}

/* jansson's own text may quote the input, which can hold a token: say what went wrong in our words. */
static const char *json_problem(const json_error_t *jerr)
{
    switch (json_error_code(jerr)) {
    case json_error_invalid_utf8:
        return "invalid UTF-8";
    case json_error_premature_end_of_input:
        return "truncated";
    case json_error_end_of_input_expected:
        return "data after the object";
    case json_error_null_character:
        return "NUL character";
    case json_error_duplicate_key:
        return "duplicate member";
    case json_error_numeric_overflow:
        return "number out of range";
    case json_error_stack_overflow:
        return "nested too deeply";
    case json_error_out_of_memory:
        return "out of memory";
    default:
        return "syntax error";
    }
}

static const as__json_field_t *find_field(const as__json_schema_t *schema, const char *name)
{
    for (size_t i = 0; i < schema->field_count; ++i)
        if (strcmp(schema->fields[i].name, name) == 0)
            return &schema->fields[i];
    return NULL;
}

/* The rules for one string value, shared by both directions. label is "member \"x\"" or "... entry n". */
static int check_string(const as__json_schema_t *schema, const as__json_field_t *field, const char *label,
                        const char *value, size_t len, size_t max, char *err, size_t err_size)
{
    if (len == 0 && (field->flags & AS__JSON_NONEMPTY)) {
        set_error(err, err_size, "%s: %s must not be empty", schema->what, label);
        return -1;
    }
    if (len > max) {
        set_error(err, err_size, "%s: %s is %zu bytes, the limit is %zu", schema->what, label, len, max);
        return -1;
    }
    if (field->check != NULL) {
        const char *reason = field->check(value, len);
        if (reason != NULL) {
            set_error(err, err_size, "%s: %s %s", schema->what, label, reason);
            return -1;
        }
    }
    return 0;
}

static int check_int(const as__json_schema_t *schema, const as__json_field_t *field, int64_t value, char *err,
                     size_t err_size)
{
    if (value < field->min_value || value > field->max_value) {
        set_error(err, err_size, "%s: member \"%s\" is out of range [%lld, %lld]", schema->what, field->name,
                  (long long)field->min_value, (long long)field->max_value);
        return -1;
    }
    return 0;
}

static void free_string(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static void free_members(const as__json_schema_t *schema, void *obj)
{
    for (size_t i = 0; i < schema->field_count; ++i) {
        const as__json_field_t *f = &schema->fields[i];
        if (f->type == AS__JSON_STRING) {
            free_string(*string_at(obj, f->offset));
        } else if (f->type == AS__JSON_STRING_ARRAY) {
            char **array = *array_at(obj, f->offset);
            size_t count = *count_at(obj, f->count_offset);
            for (size_t j = 0; array != NULL && j < count; ++j)
                free_string(array[j]);
            free(array);
        }
    }
}

void as__json_free(const as__json_schema_t *schema, void *obj)
{
    if (obj == NULL)
        return;
    free_members(schema, obj);
    free(obj);
}

static char *dup_string(const char *s, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    return copy;
}

static int decode_field(const as__json_schema_t *schema, const as__json_field_t *f, json_t *value, void *obj,
                        char *err, size_t err_size)
{
    char label[96];
    snprintf(label, sizeof(label), "member \"%s\"", f->name);
    switch (f->type) {
    case AS__JSON_STRING: {
        if (!json_is_string(value)) {
            set_error(err, err_size, "%s: %s must be a string", schema->what, label);
            return -1;
        }
        size_t len = json_string_length(value);
        if (check_string(schema, f, label, json_string_value(value), len, f->max, err, err_size) != 0)
            return -1;
        char *copy = dup_string(json_string_value(value), len);
        if (copy == NULL) {
            set_error(err, err_size, "%s: out of memory", schema->what);
            return -1;
        }
        *string_at(obj, f->offset) = copy;
        return 0;
    }
    case AS__JSON_STRING_ARRAY: {
        if (!json_is_array(value)) {
            set_error(err, err_size, "%s: %s must be an array of strings", schema->what, label);
            return -1;
        }
        size_t count = json_array_size(value);
        if (count > f->max) {
            set_error(err, err_size, "%s: %s has %zu entries, the limit is %zu", schema->what, label, count,
                      f->max);
            return -1;
        }
        if (count == 0)
            return 0;
        char **array = calloc(count, sizeof(*array));
        if (array == NULL) {
            set_error(err, err_size, "%s: out of memory", schema->what);
            return -1;
        }
        /* stored before filling so that a failure half-way frees what was copied */
        *array_at(obj, f->offset) = array;
        *count_at(obj, f->count_offset) = count;
        for (size_t i = 0; i < count; ++i) {
            json_t *entry = json_array_get(value, i);
            char entry_label[128];
            snprintf(entry_label, sizeof(entry_label), "%s entry %zu", label, i);
            if (!json_is_string(entry)) {
                set_error(err, err_size, "%s: %s must be a string", schema->what, entry_label);
                return -1;
            }
            size_t len = json_string_length(entry);
            if (check_string(schema, f, entry_label, json_string_value(entry), len, f->max_entry, err,
                             err_size) != 0)
                return -1;
            if ((array[i] = dup_string(json_string_value(entry), len)) == NULL) {
                set_error(err, err_size, "%s: out of memory", schema->what);
                return -1;
            }
        }
        return 0;
    }
    case AS__JSON_INT64:
        if (!json_is_integer(value)) {
            set_error(err, err_size, "%s: %s must be an integer", schema->what, label);
            return -1;
        }
        if (check_int(schema, f, (int64_t)json_integer_value(value), err, err_size) != 0)
            return -1;
        *int_at(obj, f->offset) = (int64_t)json_integer_value(value);
        return 0;
    }
    return -1;
}

int as__json_decode(const as__json_schema_t *schema, const char *json, size_t len, void **out, char *err,
                    size_t err_size)
{
    if (json == NULL) {
        set_error(err, err_size, "%s: no document", schema->what);
        return -1;
    }
    if (len > schema->max_document) {
        set_error(err, err_size, "%s: document is %zu bytes, the limit is %zu", schema->what, len,
                  schema->max_document);
        return -1;
    }
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (root == NULL) {
        set_error(err, err_size, "%s: not valid JSON: %s (line %d, column %d)", schema->what,
                  json_problem(&jerr), jerr.line, jerr.column);
        return -1;
    }
    int rc = -1;
    void *obj = NULL;
    if (!json_is_object(root)) {
        set_error(err, err_size, "%s: not a JSON object", schema->what);
        goto out;
    }
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        if (strcmp(key, schema->version_member) != 0 && find_field(schema, key) == NULL) {
            if (printable_name(key))
                set_error(err, err_size, "%s: unknown member \"%s\"", schema->what, key);
            else
                set_error(err, err_size, "%s: unknown member (unprintable name)", schema->what);
            goto out;
        }
    }
    json_t *version = json_object_get(root, schema->version_member);
    if (version == NULL) {
        set_error(err, err_size, "%s: missing member \"%s\"", schema->what, schema->version_member);
        goto out;
    }
    if (!json_is_integer(version)) {
        set_error(err, err_size, "%s: member \"%s\" must be an integer", schema->what,
                  schema->version_member);
        goto out;
    }
    if (json_integer_value(version) != (json_int_t)schema->version) {
        set_error(err, err_size, "%s: unsupported version %lld (this build reads %u)", schema->what,
                  (long long)json_integer_value(version), (unsigned)schema->version);
        goto out;
    }
    if ((obj = calloc(1, schema->struct_size)) == NULL) {
        set_error(err, err_size, "%s: out of memory", schema->what);
        goto out;
    }
    *version_at(obj, schema->version_offset) = schema->version;
    for (size_t i = 0; i < schema->field_count; ++i) {
        const as__json_field_t *f = &schema->fields[i];
        json_t *member = json_object_get(root, f->name);
        if (member == NULL) {
            if (f->flags & AS__JSON_REQUIRED) {
                set_error(err, err_size, "%s: missing member \"%s\"", schema->what, f->name);
                goto out;
            }
            continue;
        }
        if (decode_field(schema, f, member, obj, err, err_size) != 0)
            goto out;
    }
    *out = obj;
    obj = NULL;
    rc = 0;
out:
    as__json_free(schema, obj);
    json_decref(root);
    return rc;
}

/* Builds the JSON value of one member, or sets *value to NULL for an absent optional member. */
static int encode_field(const as__json_schema_t *schema, const as__json_field_t *f, const void *obj,
                        json_t **value, char *err, size_t err_size)
{
    char label[96];
    snprintf(label, sizeof(label), "member \"%s\"", f->name);
    *value = NULL;
    switch (f->type) {
    case AS__JSON_STRING: {
        const char *s = *const_string_at(obj, f->offset);
        if (s == NULL) {
            if (f->flags & AS__JSON_REQUIRED) {
                set_error(err, err_size, "%s: missing member \"%s\"", schema->what, f->name);
                return -1;
            }
            return 0;
        }
        size_t len = strlen(s);
        if (check_string(schema, f, label, s, len, f->max, err, err_size) != 0)
            return -1;
        if ((*value = json_stringn(s, len)) == NULL) {
            set_error(err, err_size, "%s: %s is not valid UTF-8", schema->what, label);
            return -1;
        }
        return 0;
    }
    case AS__JSON_STRING_ARRAY: {
        char *const *array = *const_array_at(obj, f->offset);
        size_t count = const_count_at(obj, f->count_offset);
        if (count > f->max) {
            set_error(err, err_size, "%s: %s has %zu entries, the limit is %zu", schema->what, label, count,
                      f->max);
            return -1;
        }
        if (count > 0 && array == NULL) {
            set_error(err, err_size, "%s: %s has a count but no entries", schema->what, label);
            return -1;
        }
        json_t *list = json_array();
        if (list == NULL)
            goto oom;
        for (size_t i = 0; i < count; ++i) {
            char entry_label[128];
            snprintf(entry_label, sizeof(entry_label), "%s entry %zu", label, i);
            if (array[i] == NULL) {
                set_error(err, err_size, "%s: %s must be a string", schema->what, entry_label);
                json_decref(list);
                return -1;
            }
            size_t len = strlen(array[i]);
            if (check_string(schema, f, entry_label, array[i], len, f->max_entry, err, err_size) != 0) {
                json_decref(list);
                return -1;
            }
            json_t *entry = json_stringn(array[i], len);
            if (entry == NULL) {
                set_error(err, err_size, "%s: %s is not valid UTF-8", schema->what, entry_label);
                json_decref(list);
                return -1;
            }
            if (json_array_append_new(list, entry) != 0) {
                json_decref(list);
                goto oom;
            }
        }
        *value = list;
        return 0;
    }
    case AS__JSON_INT64: {
        int64_t v = const_int_at(obj, f->offset);
        if (check_int(schema, f, v, err, err_size) != 0)
            return -1;
        if ((*value = json_integer((json_int_t)v)) == NULL)
            goto oom;
        return 0;
    }
    }
    return -1;
oom:
    set_error(err, err_size, "%s: out of memory", schema->what);
    return -1;
}

char *as__json_encode(const as__json_schema_t *schema, const void *obj, char *err, size_t err_size)
{
    if (obj == NULL) {
        set_error(err, err_size, "%s: no record", schema->what);
        return NULL;
    }
    char *text = NULL;
    json_t *root = json_object();
    json_t *version = json_integer((json_int_t)schema->version);
    if (root == NULL || version == NULL || json_object_set_new(root, schema->version_member, version) != 0) {
        set_error(err, err_size, "%s: out of memory", schema->what);
        goto out;
    }
    for (size_t i = 0; i < schema->field_count; ++i) {
        json_t *value;
        if (encode_field(schema, &schema->fields[i], obj, &value, err, err_size) != 0)
            goto out;
        if (value != NULL && json_object_set_new(root, schema->fields[i].name, value) != 0) {
            set_error(err, err_size, "%s: out of memory", schema->what);
            goto out;
        }
    }
    /* jansson keeps insertion order, so the output is canonical: table order, compact */
    if ((text = json_dumps(root, JSON_COMPACT)) == NULL) {
        set_error(err, err_size, "%s: out of memory", schema->what);
        goto out;
    }
    size_t len = strlen(text);
    if (len > schema->max_document) {
        set_error(err, err_size, "%s: encodes to %zu bytes, the limit is %zu", schema->what, len,
                  schema->max_document);
        free_string(text);
        text = NULL;
    }
out:
    json_decref(root);
    return text;
}

void *as__json_copy(const as__json_schema_t *schema, const void *obj)
{
    if (obj == NULL)
        return NULL;
    void *copy = calloc(1, schema->struct_size);
    if (copy == NULL)
        return NULL;
    *version_at(copy, schema->version_offset) =
        *(const uint32_t *)((const char *)obj + schema->version_offset);
    for (size_t i = 0; i < schema->field_count; ++i) {
        const as__json_field_t *f = &schema->fields[i];
        if (f->type == AS__JSON_INT64) {
            *int_at(copy, f->offset) = const_int_at(obj, f->offset);
        } else if (f->type == AS__JSON_STRING) {
            const char *s = *const_string_at(obj, f->offset);
            if (s != NULL && (*string_at(copy, f->offset) = dup_string(s, strlen(s))) == NULL)
                goto fail;
        } else {
            char *const *array = *const_array_at(obj, f->offset);
            size_t count = const_count_at(obj, f->count_offset);
            if (array == NULL || count == 0)
                continue;
            char **dup = calloc(count, sizeof(*dup));
            if (dup == NULL)
                goto fail;
            *array_at(copy, f->offset) = dup;
            *count_at(copy, f->count_offset) = count;
            for (size_t j = 0; j < count; ++j)
                if (array[j] != NULL && (dup[j] = dup_string(array[j], strlen(array[j]))) == NULL)
                    goto fail;
        }
    }
    return copy;
fail:
    as__json_free(schema, copy);
    return NULL;
}

static int same_string(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

int as__json_equal(const as__json_schema_t *schema, const void *a, const void *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (*(const uint32_t *)((const char *)a + schema->version_offset) !=
        *(const uint32_t *)((const char *)b + schema->version_offset))
        return 0;
    for (size_t i = 0; i < schema->field_count; ++i) {
        const as__json_field_t *f = &schema->fields[i];
        if (f->type == AS__JSON_INT64) {
            if (const_int_at(a, f->offset) != const_int_at(b, f->offset))
                return 0;
        } else if (f->type == AS__JSON_STRING) {
            if (!same_string(*const_string_at(a, f->offset), *const_string_at(b, f->offset)))
                return 0;
        } else {
            size_t count = const_count_at(a, f->count_offset);
            if (count != const_count_at(b, f->count_offset))
                return 0;
            char *const *xa = *const_array_at(a, f->offset);
            char *const *xb = *const_array_at(b, f->offset);
            for (size_t j = 0; j < count; ++j)
                if (!same_string(xa == NULL ? NULL : xa[j], xb == NULL ? NULL : xb[j]))
                    return 0;
        }
    }
    return 1;
}
