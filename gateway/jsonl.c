#include "jsonl.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

struct gw_jsonl {
    FILE *fp;
    int is_stdout;
    atomic_int refcount;
    pthread_mutex_t lock;
};

gw_jsonl_t *gw_jsonl_open(const char *path, char *err, size_t err_size)
{
    gw_jsonl_t *file = calloc(1, sizeof(*file));
    if (file == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    file->is_stdout = strcmp(path, "-") == 0;
    if ((file->fp = file->is_stdout ? stdout : fopen(path, "a")) == NULL) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        free(file);
        return NULL;
    }
    atomic_init(&file->refcount, 1);
    pthread_mutex_init(&file->lock, NULL);
    return file;
}

void gw_jsonl_retain(gw_jsonl_t *file)
{
    atomic_fetch_add(&file->refcount, 1);
}

void gw_jsonl_release(gw_jsonl_t *file)
{
    if (file == NULL || atomic_fetch_sub(&file->refcount, 1) != 1)
        return;
    if (file->is_stdout)
        fflush(file->fp);
    else
        fclose(file->fp);
    pthread_mutex_destroy(&file->lock);
    free(file);
}

void gw_jsonl_write(gw_jsonl_t *file, const char *line, size_t len)
{
    pthread_mutex_lock(&file->lock);
    fwrite(line, 1, len, file->fp);
    fflush(file->fp);
    pthread_mutex_unlock(&file->lock);
}

char *gw_jsonl_put_string(char *p, const char *name, const char *value, size_t len, int first)
{
    p += sprintf(p, "%s\"%s\":", first ? "{" : ",", name);
    if (value == NULL)
        return p + sprintf(p, "null");
    char *copy = strndup(value, len);
    *p++ = '"';
    if (copy != NULL)
        p += gw_json_escape(p, copy);
    free(copy);
    *p++ = '"';
    return p;
}

size_t gw_jsonl_text_len(const char *s)
{
    return s != NULL ? strlen(s) : 0;
}

char *gw_jsonl_line_start(size_t room, const char *when, const char *request_id, char **end)
{
    char *line = malloc(room + 64 + 6 * (strlen(when) + gw_jsonl_text_len(request_id)));
    if (line == NULL)
        return NULL;
    char *p = gw_jsonl_put_string(line, "time", when, strlen(when), 1);
    *end = gw_jsonl_put_string(p, "request_id", request_id, gw_jsonl_text_len(request_id), 0);
    return line;
}
