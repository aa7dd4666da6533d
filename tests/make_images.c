/* Writes small face-like images for the tiny fixture's paths, for the report
 * test: DIR/id<k>/img_<j>.jpg, a JPEG (libjpeg) whose colours depend on the
 * identity, except id2/img_00.jpg, which holds PNG bytes (libpng; the report
 * reads the content, not the name), id1/img_09.jpg, which is not an image,
 * and every id3 image, which is missing (placeholders).
 * Usage: make_images DIR */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h>

#define S 96

static void draw(unsigned char *px, int k, int j)
{
    static const unsigned char hue[4][3] = {{200, 80, 60}, {60, 140, 200}, {90, 170, 90}, {180, 160, 60}};
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            unsigned char *p = px + (y * S + x) * 3;
            int dx = x - S / 2, dy = y - S / 2 - 4;
            int face = dx * dx * 100 / (30 * 30) + dy * dy * 100 / (38 * 38) <= 100;
            int eye = (dy + 12) * (dy + 12) + (dx - 12) * (dx - 12) < 20 || (dy + 12) * (dy + 12) + (dx + 12) * (dx + 12) < 20;
            int mouth = dy > 12 && dy < 16 && dx > -12 && dx < 12;
            for (int c = 0; c < 3; c++) {
                int v = face ? 230 - c * 25 : hue[k][c] + (j * 7) % 40;
                if (eye || mouth) v = 40;
                p[c] = (unsigned char)(v > 255 ? 255 : v);
            }
        }
}

static int write_jpeg(const char *path, const unsigned char *px)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr je;
    ci.err = jpeg_std_error(&je);
    jpeg_create_compress(&ci);
    jpeg_stdio_dest(&ci, f);
    ci.image_width = S;
    ci.image_height = S;
    ci.input_components = 3;
    ci.in_color_space = JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 85, TRUE);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < S) {
        JSAMPROW row = (JSAMPROW)(px + ci.next_scanline * S * 3);
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    return fclose(f);
}

static int write_png(const char *path, const unsigned char *px)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = S;
    img.height = S;
    img.format = PNG_FORMAT_RGB;
    return png_image_write_to_file(&img, path, 0, px, 0, NULL) ? 0 : -1;
}

/* A decompression bomb: a PNG of 10000 x 8000 black pixels (80 megapixels,
 * 240 MB as RGB) that compresses to a few hundred kilobytes; written row by
 * row so this program never holds it. */
static int write_png_bomb(const char *path)
{
    enum { BW = 10000, BH = 8000 };
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    png_structp w = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = w ? png_create_info_struct(w) : NULL;
    static unsigned char row[BW * 3];
    if (!w || !info || setjmp(png_jmpbuf(w))) {
        png_destroy_write_struct(&w, &info);
        fclose(f);
        return -1;
    }
    png_init_io(w, f);
    png_set_IHDR(w, info, BW, BH, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(w, info);
    for (int y = 0; y < BH; y++) png_write_row(w, row);
    png_write_end(w, NULL);
    png_destroy_write_struct(&w, &info);
    return fclose(f);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_images DIR\n");
        return 2;
    }
    unsigned char px[S * S * 3];
    char path[4096];
    mkdir(argv[1], 0755);
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/id%d", argv[1], k);
        mkdir(path, 0755);
        for (int j = 0; j < 10; j++) {
            snprintf(path, sizeof path, "%s/id%d/img_%02d.jpg", argv[1], k, j);
            draw(px, k, j);
            int rc;
            if (k == 1 && j == 9) {
                FILE *f = fopen(path, "w");
                rc = f ? (fputs("not an image\n", f), fclose(f)) : -1;
            } else if (k == 2 && j == 0) {
                rc = write_png(path, px);
            } else {
                rc = write_jpeg(path, px);
            }
            if (rc != 0) {
                fprintf(stderr, "make_images: cannot write %s\n", path);
                return 1;
            }
        }
    }
    snprintf(path, sizeof path, "%s/bomb.png", argv[1]);
    if (write_png_bomb(path) != 0) {
        fprintf(stderr, "make_images: cannot write %s\n", path);
        return 1;
    }
    return 0;
}
