/* Draws a face crop for every face of a magclust HDF5 file, so the photo
 * workflow example has a folder of images to report on. We bundle no face
 * detector or embedding network, so the crops are drawn from the file, not
 * the other way round: each identity gets its own face (skin, hair, eyes,
 * background), and a face's quality (its embedding magnitude) sets how sharp
 * and bright its crop is, as a blurred or dark photo has a small MagFace
 * magnitude. Written with libjpeg; uses the library's public API only.
 * Usage: make_crops FACES.h5 OUT_DIR */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <magclust/magclust.h>

#define S 112

static unsigned hash(unsigned x)
{
    x ^= x >> 16, x *= 0x7feb352dU, x ^= x >> 15, x *= 0x846ca68bU, x ^= x >> 16;
    return x;
}

static void draw(unsigned char *px, long id, size_t i, double sharp)
{
    unsigned h = hash((unsigned)id * 2654435761U + 7);
    unsigned char skin[3] = {(unsigned char)(170 + h % 70), (unsigned char)(120 + (h >> 8) % 70), (unsigned char)(90 + (h >> 16) % 60)};
    unsigned char hair[3] = {(unsigned char)((h >> 3) % 120), (unsigned char)((h >> 11) % 90), (unsigned char)((h >> 19) % 60)};
    unsigned char bg[3] = {(unsigned char)(hash((unsigned)i) % 200 + 40), (unsigned char)(hash((unsigned)i + 1) % 200 + 40), 200};
    double ew = 6 + (h >> 5) % 6, fw = 30 + (h >> 13) % 10, fh = 38 + (h >> 17) % 8;
    double ox = (double)(hash((unsigned)i * 3) % 9) - 4, oy = (double)(hash((unsigned)i * 5) % 9) - 4;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            double dx = x - S / 2.0 - ox, dy = y - S / 2.0 - oy;
            const unsigned char *c = bg;
            if (dx * dx / (fw * fw) + dy * dy / (fh * fh) <= 1) c = skin;
            if (dy < -fh * 0.55 && dx * dx / ((fw + 4) * (fw + 4)) + dy * dy / ((fh + 6) * (fh + 6)) <= 1) c = hair;
            unsigned char v[3] = {c[0], c[1], c[2]};
            double ey = dy + 10, el = dx + 13, er = dx - 13;
            if ((ey * ey + el * el < ew * ew / 2) || (ey * ey + er * er < ew * ew / 2)) v[0] = v[1] = v[2] = 30;
            if (dy > 16 && dy < 19 + (h % 4) && fabs(dx) < 10 + (h >> 7) % 6) v[0] = 120, v[1] = v[2] = 40;
            for (int k = 0; k < 3; k++) px[(y * S + x) * 3 + k] = v[k];
        }
    /* low quality: box blur and darken */
    int r = (int)((1 - sharp) * 6);
    if (r > 0) {
        unsigned char *tmp = malloc(S * S * 3);
        if (!tmp) return;
        memcpy(tmp, px, S * S * 3);
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
                for (int k = 0; k < 3; k++) {
                    int sum = 0, n = 0;
                    for (int yy = y - r; yy <= y + r; yy++)
                        for (int xx = x - r; xx <= x + r; xx++)
                            if (yy >= 0 && yy < S && xx >= 0 && xx < S) sum += tmp[(yy * S + xx) * 3 + k], n++;
                    px[(y * S + x) * 3 + k] = (unsigned char)(sum / n * (0.55 + 0.45 * sharp));
                }
        free(tmp);
    }
}

static int mkdirs(char *path)
{
    for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        int rc = mkdir(path, 0755);
        *s = '/';
        if (rc != 0 && errno != EEXIST) return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: make_crops FACES.h5 OUT_DIR\n");
        return 2;
    }
    mc_embeddings_t *e = NULL;
    if (mc_embeddings_read_h5(argv[1], NULL, &e) != MC_OK) {
        fprintf(stderr, "make_crops: error: %s\n", mc_last_error_detail());
        return 1;
    }
    size_t n = mc_embeddings_n(e);
    const float *mag = mc_embeddings_magnitudes(e);
    const int64_t *lab = mc_embeddings_labels(e);
    if (!lab || !mc_embeddings_path(e, 0)) {
        fprintf(stderr, "make_crops: error: %s needs /labels and /paths\n", argv[1]);
        mc_embeddings_free(e);
        return 1;
    }
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) lo = mag[i] < lo ? mag[i] : lo, hi = mag[i] > hi ? mag[i] : hi;
    mkdir(argv[2], 0755);
    unsigned char *px = malloc(S * S * 3);
    char path[4096];
    int rc = 0;
    for (size_t i = 0; px && i < n && !rc; i++) {
        snprintf(path, sizeof path, "%s/%s", argv[2], mc_embeddings_path(e, i));
        double sharp = hi > lo ? (mag[i] - lo) / (hi - lo) : 1;
        draw(px, lab[i] >= 0 ? (long)lab[i] : -1 - (long)i, i, sharp);
        FILE *f = mkdirs(path) == 0 ? fopen(path, "wb") : NULL;
        if (!f) {
            fprintf(stderr, "make_crops: error: cannot write %s\n", path);
            rc = 1;
            break;
        }
        struct jpeg_compress_struct ci;
        struct jpeg_error_mgr je;
        ci.err = jpeg_std_error(&je);
        jpeg_create_compress(&ci);
        jpeg_stdio_dest(&ci, f);
        ci.image_width = S, ci.image_height = S, ci.input_components = 3, ci.in_color_space = JCS_RGB;
        jpeg_set_defaults(&ci);
        jpeg_set_quality(&ci, 85, TRUE);
        jpeg_start_compress(&ci, TRUE);
        while (ci.next_scanline < S) {
            JSAMPROW row = px + ci.next_scanline * S * 3;
            jpeg_write_scanlines(&ci, &row, 1);
        }
        jpeg_finish_compress(&ci);
        jpeg_destroy_compress(&ci);
        if (fclose(f) != 0) rc = 1;
    }
    free(px);
    mc_embeddings_free(e);
    if (!rc) printf("make_crops: %zu crops under %s\n", n, argv[2]);
    return rc;
}
