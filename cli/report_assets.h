/* The style sheet and script of `magclust report`'s page, as static text. */
#ifndef MAGCLUST_CLI_REPORT_ASSETS_H
#define MAGCLUST_CLI_REPORT_ASSETS_H

/* The page's CSS (thumbnail side in the --t custom property, set apart). */
extern const char cli_report_css[];
/* The page's JavaScript: reads the JSON in <script id="data">, draws the
 * pager, the cluster galleries and the noise; sets body data-ready="1". */
extern const char cli_report_js[];

#endif
