/* magclust report, the page: one self-contained HTML file (inline CSS, SVG
 * and JavaScript, the thumbnails as data URLs, the faces as JSON). */
#ifndef MAGCLUST_CLI_REPORT_HTML_H
#define MAGCLUST_CLI_REPORT_HTML_H

#include <stddef.h>

#include "report_data.h"

typedef struct {
    const char *result_path; /* the result shown (named on the page) */
    const char *title;       /* the page's title, or NULL: result_path */
    size_t thumb_size;       /* thumbnail side in pixels */
    size_t per_page;         /* clusters drawn at a time */
    size_t shown;            /* thumbnails per cluster; ten times as many noise faces */
} report_page;

/* Writes the page of d to path atomically. 0, or -1 with the error printed
 * and nothing left behind. */
int report_write_html(const char *path, const report_data *d, const report_page *p);

#endif
