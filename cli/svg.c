#include "svg.h"

#include <math.h>

#include "cli_util.h"

void svg_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* A "nice" tick step: 1, 2 or 5 times a power of ten, about n ticks. */
static double nice_step(double span, int n)
{
    if (!(span > 0)) return 1.0;
    double raw = span / n, p = pow(10.0, floor(log10(raw))), r = raw / p;
    return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * p;
}

int svg_line_plot(FILE *f, const char *title, const char *xlabel, const char *ylabel,
                  double ymin, double ymax, const svg_series *s, size_t ns,
                  const svg_marker *m, size_t nm)
{
    const double W = 900, H = 500, L = 70, R = 270, T = 50, B = 60;
    double xmin = INFINITY, xmax = -INFINITY;
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < s[i].n; j++) {
            if (s[i].x[j] < xmin) xmin = s[i].x[j];
            if (s[i].x[j] > xmax) xmax = s[i].x[j];
        }
    for (size_t i = 0; i < nm; i++)
        if (isfinite(m[i].x)) {
            if (m[i].x < xmin) xmin = m[i].x;
            if (m[i].x > xmax) xmax = m[i].x;
        }
    if (!isfinite(xmin)) xmin = 0, xmax = 1;
    if (xmax == xmin) xmin -= 0.5, xmax += 0.5;
    double pw = W - L - R, ph = H - T - B;
#define PX(v) (L + ((v) - xmin) / (xmax - xmin) * pw)
#define PY(v) (T + (ymax - (v)) / (ymax - ymin) * ph)
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" "
               "font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\n", W, H, W, H);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"%g\" y=\"28\" font-size=\"15\" font-weight=\"bold\">", L);
    svg_text(f, title);
    fprintf(f, "</text>\n");
    /* grid and ticks */
    double ys = nice_step(ymax - ymin, 5), xs = nice_step(xmax - xmin, 8);
    for (double v = ceil(ymin / ys) * ys; v <= ymax + 1e-9 * ys; v += ys) {
        fprintf(f, "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>\n", L, PY(v), L + pw, PY(v));
        fprintf(f, "<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", L - 6, PY(v) + 4, fabs(v) < 1e-12 ? 0.0 : v);
    }
    for (double v = ceil(xmin / xs) * xs; v <= xmax + 1e-9 * xs; v += xs) {
        fprintf(f, "<line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\" stroke=\"#e4e4e4\"/>\n", PX(v), T, PX(v), T + ph);
        fprintf(f, "<text x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">%g</text>\n", PX(v), T + ph + 18, fabs(v) < 1e-12 ? 0.0 : v);
    }
    fprintf(f, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#444\"/>\n", L, T, pw, ph);
    fprintf(f, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">", L + pw / 2, H - 16);
    svg_text(f, xlabel);
    fprintf(f, "</text>\n<text transform=\"translate(18 %g) rotate(-90)\" text-anchor=\"middle\">", T + ph / 2);
    svg_text(f, ylabel);
    fprintf(f, "</text>\n");
    for (size_t i = 0; i < nm; i++) {
        if (!isfinite(m[i].x)) continue;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\" stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"/>\n",
                PX(m[i].x), T, PX(m[i].x), T + ph, m[i].color);
        /* the label goes to the legend, below the series */
        double ly = T + 10 + 18.0 * (double)(ns + i) + 8;
        fprintf(f, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"/>\n",
                L + pw + 26, ly - 7, L + pw + 26, ly + 7, m[i].color);
        fprintf(f, "<text x=\"%g\" y=\"%g\" fill=\"%s\">", L + pw + 46, ly + 4, m[i].color);
        svg_text(f, m[i].label);
        fprintf(f, "</text>\n");
    }
    for (size_t i = 0; i < ns; i++) {
        int open = 0;
        for (size_t j = 0; j < s[i].n; j++) {
            double y = s[i].y[j];
            if (!isfinite(y)) {
                if (open) fprintf(f, "\"/>\n");
                open = 0;
                continue;
            }
            if (y < ymin) y = ymin;
            if (y > ymax) y = ymax;
            if (!open) {
                fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s%s%s points=\"", s[i].color,
                        s[i].dash ? " stroke-dasharray=\"" : "", s[i].dash ? s[i].dash : "", s[i].dash ? "\"" : "");
                open = 1;
            }
            fprintf(f, "%.1f,%.1f ", PX(s[i].x[j]), PY(y));
        }
        if (open) fprintf(f, "\"/>\n");
        if (s[i].n == 1 && isfinite(s[i].y[0]))
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", PX(s[i].x[0]), PY(s[i].y[0]), s[i].color);
        double ly = T + 10 + 18.0 * (double)i;
        fprintf(f, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"%s\" stroke-width=\"2\"%s%s%s/>\n", L + pw + 12, ly,
                L + pw + 40, ly, s[i].color, s[i].dash ? " stroke-dasharray=\"" : "", s[i].dash ? s[i].dash : "",
                s[i].dash ? "\"" : "");
        fprintf(f, "<text x=\"%g\" y=\"%g\">", L + pw + 46, ly + 4);
        svg_text(f, s[i].label);
        fprintf(f, "</text>\n");
    }
#undef PX
#undef PY
    fprintf(f, "</svg>\n");
    return ferror(f) ? -1 : 0;
}

int svg_write_plot(const char *path, const char *title, const char *xlabel, const char *ylabel,
                   double ymin, double ymax, const svg_series *s, size_t ns,
                   const svg_marker *m, size_t nm)
{
    mc_output_t *o = NULL;
    FILE *f = cli_output_open(path, &o);
    if (!f) return -1;
    if (svg_line_plot(f, title, xlabel, ylabel, ymin, ymax, s, ns, m, nm) != 0) {
        cli_error("%s: write failed", path);
        mc_output_free(o);
        return -1;
    }
    return cli_output_commit(o);
}

void svg_prf_series(svg_series s[3], char labels[3][SVG_LABEL_MAX], const char *prefix,
                    const char *color, const double *x, const double *P, const double *R,
                    const double *F, size_t n)
{
    snprintf(labels[0], SVG_LABEL_MAX, "%sF", prefix);
    snprintf(labels[1], SVG_LABEL_MAX, "%sprecision", prefix);
    snprintf(labels[2], SVG_LABEL_MAX, "%srecall", prefix);
    s[0] = (svg_series){labels[0], x, F, n, color, NULL};
    s[1] = (svg_series){labels[1], x, P, n, color, "8 4"};
    s[2] = (svg_series){labels[2], x, R, n, color, "2 3"};
}
