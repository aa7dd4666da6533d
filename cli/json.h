/* A minimal streaming JSON writer for `--json` output (one object on one line). */
#ifndef MAGCLUST_JSON_H
#define MAGCLUST_JSON_H

#include <stdint.h>
#include <stdio.h>

typedef struct {
    FILE *f;
    int need_comma; /* a value was written at the current level */
} json_out;

void json_begin(json_out *j, FILE *f);          /* "{" */
void json_end(json_out *j);                     /* "}\n" */
void json_key_object(json_out *j, const char *key);  /* "key": { */
void json_close_object(json_out *j);            /* } */
void json_str(json_out *j, const char *key, const char *value); /* null when value is NULL */
void json_num(json_out *j, const char *key, double value);      /* null when not finite */
void json_uint(json_out *j, const char *key, uint64_t value);
void json_null(json_out *j, const char *key);
void json_bool(json_out *j, const char *key, int value);

#endif
