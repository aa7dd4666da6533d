/* Face thumbnails for `magclust report`, through libjpeg and libpng. */
#ifndef MAGCLUST_CLI_THUMB_H
#define MAGCLUST_CLI_THUMB_H

#include <stddef.h>

/* Decode the JPEG or PNG at path, take its centred square, scale it to
 * size x size and encode it as a JPEG of the given quality (malloc'd into
 * *out). 0, or -1 with a short reason in err. */
int cli_thumb_make(const char *path, int size, int quality, unsigned char **out, size_t *out_len,
                   char *err, size_t errsz);

#endif
