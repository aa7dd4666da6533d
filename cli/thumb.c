/* Face thumbnails for the report: JPEG is decoded by libjpeg(-turbo) (with
 * its DCT scaling, so a large photo is never decoded at full size), PNG by
 * libpng's simplified API; the square centre is box-filtered down and
 * encoded as a JPEG in memory. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "magclust/status.h"
#include "thumb.h"

/* Largest decoded image, in pixels: a photo of 64 megapixels takes 192 MB as
 * RGB. A small PNG can claim a huge canvas (a decompression bomb), and PNG
 * cannot be decoded scaled; nor may an image outgrow the memory limit. */
#define THUMB_MAX_PIXELS (64u * 1024u * 1024u)

static int too_large(unsigned w, unsigned h, char *err, size_t errsz, const char *what)
{
    uint64_t px = (uint64_t)w * h, need = px * 3;
    if (w > 20000 || h > 20000 || px > THUMB_MAX_PIXELS || need > mc_memory_limit()) {
        snprintf(err, errsz, "%s: %ux%u is too large to decode", what, w, h);
        return 1;
    }
    return 0;
}

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
} jerr_t;

static void jerr_exit(j_common_ptr cinfo)
{
    jerr_t *e = (jerr_t *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jb, 1);
}

static void jerr_silent(j_common_ptr cinfo, int level)
{
    (void)cinfo;
    (void)level;
}

/* RGB pixels (w x h x 3) of a JPEG, scaled by libjpeg to at least min_side
 * on the short side where it can. */
static unsigned char *decode_jpeg(FILE *fp, int min_side, int *w, int *h, char *err, size_t errsz)
{
    struct jpeg_decompress_struct ci;
    jerr_t je;
    unsigned char *volatile px = NULL;
    ci.err = jpeg_std_error(&je.pub);
    je.pub.error_exit = jerr_exit;
    je.pub.emit_message = jerr_silent;
    if (setjmp(je.jb)) {
        snprintf(err, errsz, "JPEG: %s", je.msg);
        jpeg_destroy_decompress(&ci);
        free(px);
        return NULL;
    }
    jpeg_create_decompress(&ci);
    jpeg_stdio_src(&ci, fp);
    jpeg_read_header(&ci, TRUE);
    ci.out_color_space = JCS_RGB;
    unsigned short_side = ci.image_width < ci.image_height ? ci.image_width : ci.image_height;
    unsigned denom = 1;
    while (denom < 8 && short_side / (denom * 2) >= (unsigned)min_side) denom *= 2;
    ci.scale_num = 1;
    ci.scale_denom = denom;
    ci.dct_method = JDCT_IFAST;
    jpeg_calc_output_dimensions(&ci);
    if (too_large(ci.output_width, ci.output_height, err, errsz, "JPEG")) {
        jpeg_destroy_decompress(&ci);
        return NULL;
    }
    jpeg_start_decompress(&ci);
    if (ci.output_components != 3) {
        snprintf(err, errsz, "JPEG: unsupported layout (%d components, %ux%u)", ci.output_components,
                 ci.output_width, ci.output_height);
        jpeg_destroy_decompress(&ci);
        return NULL;
    }
    size_t stride = (size_t)ci.output_width * 3;
    px = malloc(stride * ci.output_height);
    if (!px) {
        snprintf(err, errsz, "out of memory");
        jpeg_destroy_decompress(&ci);
        return NULL;
    }
    while (ci.output_scanline < ci.output_height) {
        JSAMPROW row = px + stride * ci.output_scanline;
        jpeg_read_scanlines(&ci, &row, 1);
    }
    *w = (int)ci.output_width;
    *h = (int)ci.output_height;
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    return px;
}

static unsigned char *decode_png(FILE *fp, int *w, int *h, char *err, size_t errsz)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_stdio(&img, fp)) {
        snprintf(err, errsz, "PNG: %s", img.message);
        return NULL;
    }
    img.format = PNG_FORMAT_RGB;
    if (too_large(img.width, img.height, err, errsz, "PNG")) {
        png_image_free(&img);
        return NULL;
    }
    unsigned char *px = malloc(PNG_IMAGE_SIZE(img));
    if (!px) {
        snprintf(err, errsz, "out of memory");
        png_image_free(&img);
        return NULL;
    }
    /* composite any alpha over white */
    png_color white = {255, 255, 255};
    if (!png_image_finish_read(&img, &white, px, 0, NULL)) {
        snprintf(err, errsz, "PNG: %s", img.message);
        free(px);
        return NULL;
    }
    *w = (int)img.width;
    *h = (int)img.height;
    return px;
}

/* The centred square of (w x h) box-averaged to size x size. */
static void square_thumb(const unsigned char *px, int w, int h, int size, unsigned char *dst)
{
    int side = w < h ? w : h;
    int x0 = (w - side) / 2, y0 = (h - side) / 2;
    for (int ty = 0; ty < size; ty++) {
        int ya = y0 + ty * side / size, yb = y0 + (ty + 1) * side / size;
        if (yb <= ya) yb = ya + 1;
        for (int tx = 0; tx < size; tx++) {
            int xa = x0 + tx * side / size, xb = x0 + (tx + 1) * side / size;
            if (xb <= xa) xb = xa + 1;
            unsigned long sum[3] = {0, 0, 0}, cnt = 0;
            for (int y = ya; y < yb; y++)
                for (int x = xa; x < xb; x++) {
                    const unsigned char *p = px + ((size_t)y * (size_t)w + (size_t)x) * 3;
                    sum[0] += p[0], sum[1] += p[1], sum[2] += p[2];
                    cnt++;
                }
            for (int c = 0; c < 3; c++) dst[((size_t)ty * (size_t)size + (size_t)tx) * 3 + (size_t)c] = (unsigned char)(sum[c] / cnt);
        }
    }
}

static int encode_jpeg(const unsigned char *px, int size, int quality, unsigned char **out, size_t *out_len)
{
    struct jpeg_compress_struct ci;
    jerr_t je;
    unsigned char *buf = NULL;
    unsigned long len = 0;
    ci.err = jpeg_std_error(&je.pub);
    je.pub.error_exit = jerr_exit;
    if (setjmp(je.jb)) {
        jpeg_destroy_compress(&ci);
        free(buf);
        return -1;
    }
    jpeg_create_compress(&ci);
    jpeg_mem_dest(&ci, &buf, &len);
    ci.image_width = (JDIMENSION)size;
    ci.image_height = (JDIMENSION)size;
    ci.input_components = 3;
    ci.in_color_space = JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, quality, TRUE);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)ci.next_scanline * (size_t)size * 3);
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    *out = buf;
    *out_len = len;
    return 0;
}

int cli_thumb_make(const char *path, int size, int quality, unsigned char **out, size_t *out_len,
                   char *err, size_t errsz)
{
    *out = NULL;
    *out_len = 0;
    /* O_NONBLOCK: a FIFO or a device named as an image must not hang the
     * report; only regular files are read */
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    struct stat sb;
    if (fd < 0) {
        snprintf(err, errsz, "no such image");
        return -1;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        snprintf(err, errsz, "not a regular file");
        return -1;
    }
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        close(fd);
        snprintf(err, errsz, "cannot read");
        return -1;
    }
    unsigned char magic[8] = {0};
    size_t got = fread(magic, 1, sizeof magic, fp);
    rewind(fp);
    unsigned char *px = NULL;
    int w = 0, h = 0;
    if (got >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) {
        px = decode_jpeg(fp, size, &w, &h, err, errsz);
        fclose(fp);
    } else if (got == 8 && memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0) {
        px = decode_png(fp, &w, &h, err, errsz); /* the file opened above, not the path again */
        fclose(fp);
    } else {
        fclose(fp);
        snprintf(err, errsz, "not a JPEG or PNG image");
        return -1;
    }
    if (!px) return -1;
    if (w < 1 || h < 1) {
        free(px);
        snprintf(err, errsz, "empty image");
        return -1;
    }
    unsigned char *t = malloc((size_t)size * (size_t)size * 3);
    int rc = -1;
    if (t) {
        square_thumb(px, w, h, size, t);
        rc = encode_jpeg(t, size, quality, out, out_len);
        if (rc) snprintf(err, errsz, "JPEG encoding failed");
    } else {
        snprintf(err, errsz, "out of memory");
    }
    free(t);
    free(px);
    return rc;
}
