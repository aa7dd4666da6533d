/* Writes small face-like images for the tiny fixture's paths, for the report
 * test: DIR/id<k>/img_<j>.jpg, a JPEG (libjpeg) whose colours depend on the
 * identity, except id2/img_00.jpg, which holds PNG bytes (libpng; the report
 * reads the content, not the name), id1/img_09.jpg, which is not an image,
 * and every id3 image, which is missing (placeholders).
 * Usage: make_images DIR */
#include <png.h>
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
    return 0;
}
