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

/* Escape text for SVG/HTML. */
void svg_text(FILE *f, const char *s);

#endif
