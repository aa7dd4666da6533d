/* Small self-contained SVG line plots (no scripts, no external fonts). */
#ifndef MAGCLUST_SVG_H
#define MAGCLUST_SVG_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    const char *label;  /* legend text */
    const double *x, *y;
    size_t n;           /* points; NaN y values break the line */
    const char *color;  /* CSS colour */
    const char *dash;   /* stroke-dasharray, or NULL for solid */
} svg_series;

typedef struct {
    double x;
    const char *label;
    const char *color;
} svg_marker;  /* a vertical dashed line */

/* Writes a whole SVG document; y axis from ymin to ymax, x from the data.
 * Returns 0, or -1 on a write error. */
int svg_line_plot(FILE *f, const char *title, const char *xlabel, const char *ylabel,
                  double ymin, double ymax, const svg_series *s, size_t ns,
                  const svg_marker *m, size_t nm);

/* The same plot written to PATH atomically (cli_output_open): 0, or -1 with the
 * error printed and nothing left behind. */
int svg_write_plot(const char *path, const char *title, const char *xlabel, const char *ylabel,
                   double ymin, double ymax, const svg_series *s, size_t ns,
                   const svg_marker *m, size_t nm);

/* One group's three BCubed lines in one colour: F solid, precision dashed,
 * recall dotted, labelled "<prefix>F", "<prefix>precision", "<prefix>recall"
 * (the text is kept in labels). */
#define SVG_LABEL_MAX 96
void svg_prf_series(svg_series s[3], char labels[3][SVG_LABEL_MAX], const char *prefix,
                    const char *color, const double *x, const double *P, const double *R,
                    const double *F, size_t n);

/* Escape text for SVG/HTML. */
void svg_text(FILE *f, const char *s);

#endif
