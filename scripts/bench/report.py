"""Write the benchmark's results.md and time_vs_n.svg (hand-written SVG)."""

import math
from xml.sax.saxutils import escape

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
MARKERS = ["circle", "square", "triangle", "diamond", "cross"]


def fmt_phases(seconds):
    return " ".join("%s %s" % (k, fmt_s(v)) for k, v in seconds.items())


def fmt_s(v):
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v if v >= 0.1 else "%.3f" % v


def fmt_pct(p):
    return "?" if p is None else "%.0f %%" % p


def fmt_n(n):
    return "{:,}".format(n)


# ---------------------------------------------------------------- Markdown

def write_markdown(path, ctx):
    """ctx: dict with env (list of lines), runs, skips, tuning, gemm, rates,
    recall, commands, notes (lists of dicts / strings built by bench.py)."""
    out = ["# magclust benchmark results", ""]
    out += ["- " + line for line in ctx["env"]] + [""]
    out += ["Wall s is the whole process (`/usr/bin/time -v`: interpreter start, imports and",
            "loading included), CPU its CPU time over wall time (at most 100 % a core); the",
            "phases are the tool's own timers. Peers were tuned with the labels on the 10k",
            "set (oracle tuning, which favours them) and keep that setting at every size.", ""]
    out += ["| tool | setting | N | wall s | CPU | phases (s) | peak RSS MiB | BCubed F |",
            "|---|---|---:|---:|---:|---|---:|---:|"]
    for r in ctx["runs"]:
        out.append("| %s | %s | %s | %s | %s | %s | %.0f | %.4f |" % (
            r["title"], r["setting"], fmt_n(r["n"]), fmt_s(r["wall_s"]), fmt_pct(r.get("cpu_pct")),
            fmt_phases(r["seconds"]), r["rss_mib"], r["bcubed_f"]))
    if ctx["skips"]:
        out += ["", "Skipped:", ""]
        out += ["- %s at N = %s: skipped: %s" % (s["title"], fmt_n(s["n"]), s["reason"]) for s in ctx["skips"]]
    out += ["", "## Peer tuning (on the 10k set, with the labels)", ""]
    for t in ctx["tuning"]:
        grid = ", ".join("%g: %.3f" % (v, f) for v, f in t["grid"])
        edge = " (best on the grid's edge)" if t.get("best_on_grid_edge") else ""
        out.append("- %s: %s = %g, BCubed F %.4f%s. Grid: %s" % (
            t["title"], t["param_name"], t["param"], t["bcubed_f"], edge, grid))
    out += ["", "## GEMM (OpenBLAS cblas_sgemm, best of repeats)", ""]
    out += ["- %s" % g for g in ctx["gemm"]]
    out += ["", "Exact search rate, 2 N^2 D / k-NN seconds:", ""]
    out += ["- %s" % g for g in ctx["rates"]]
    out += ["", "## Approximate against exact k-NN", ""]
    out += ["- %s" % g for g in ctx["recall"]]
    if ctx.get("notes"):
        out += ["", "## Notes", ""] + ["- %s" % n for n in ctx["notes"]]
    out += ["", "## Commands", "", "In the order they ran (from the repository root):", "", "```"]
    out += ctx["commands"]
    out += ["```", ""]
    with open(path, "w") as f:
        f.write("\n".join(out))


# ---------------------------------------------------------------- SVG plot

def _log_ticks(lo, hi):
    """Major (decades) and labelled minor (2, 5 x decade) ticks within [lo, hi]."""
    ticks = []
    for e in range(int(math.floor(math.log10(lo))), int(math.ceil(math.log10(hi))) + 1):
        for m in (1, 2, 5):
            v = m * 10.0 ** e
            if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9):
                ticks.append((v, m == 1))
    return ticks


def _tick_label(v):
    if v >= 1e6 and v % 1e6 == 0:
        return "%gM" % (v / 1e6)
    if v >= 1e3 and v % 1e3 == 0:
        return "%gk" % (v / 1e3)
    return "%g" % v


def _marker(kind, x, y, colour, r=4.5):
    if kind == "circle":
        return '<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s"/>' % (x, y, r, colour)
    if kind == "square":
        return '<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>' % (x - r, y - r, 2 * r, 2 * r, colour)
    if kind == "triangle":
        return '<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="%s"/>' % (
            x, y - r * 1.2, x - r * 1.1, y + r * 0.8, x + r * 1.1, y + r * 0.8, colour)
    if kind == "diamond":
        return '<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="%s"/>' % (
            x, y - r * 1.3, x + r, y, x, y + r * 1.3, x - r, y, colour)
    return ('<path d="M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f" stroke="%s" stroke-width="2.5"/>'
            % (x - r, y - r, x + r, y + r, x - r, y + r, x + r, y - r, colour))


def write_svg(path, series, title="Wall time against N (log-log)"):
    """series: list of (label, [(n, seconds), ...]); one line per series."""
    series = [(label, sorted(pts)) for label, pts in series if pts]
    longest = max([len(label) for label, _ in series] or [10])
    left, top, bottom = 80, 50, 70
    pw, ph = 520, 380
    w, h = int(left + pw + 80 + 7.6 * longest), top + ph + bottom
    ns = [n for _, pts in series for n, _ in pts] or [1e4, 1e5]
    ts = [t for _, pts in series for _, t in pts] or [1, 10]
    # A margin of a quarter of a factor of two around the data, in log space.
    xlo, xhi = min(ns) / 1.2, max(ns) * 1.2
    ylo, yhi = min(ts) / 1.3, max(ts) * 1.3

    def px(n):
        return left + pw * (math.log10(n) - math.log10(xlo)) / (math.log10(xhi) - math.log10(xlo))

    def py(t):
        return top + ph * (1 - (math.log10(t) - math.log10(ylo)) / (math.log10(yhi) - math.log10(ylo)))

    s = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
         'font-family="DejaVu Sans, Arial, sans-serif" font-size="13">' % (w, h, w, h),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="%d" y="28" font-size="16" font-weight="bold">%s</text>' % (left, escape(title))]
    for v, major in _log_ticks(xlo, xhi):
        x = px(v)
        s.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>' % (
            x, top, x, top + ph, "#bbbbbb" if major else "#e6e6e6"))
        s.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x, top + ph + 20, _tick_label(v)))
    for v, major in _log_ticks(ylo, yhi):
        y = py(v)
        s.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>' % (
            left, y, left + pw, y, "#bbbbbb" if major else "#e6e6e6"))
        s.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (left - 8, y + 4, _tick_label(v)))
    s.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="black"/>' % (left, top, pw, ph))
    s.append('<text x="%.1f" y="%d" text-anchor="middle">N (faces, log scale)</text>' % (left + pw / 2, h - 22))
    s.append('<text transform="translate(22,%.1f) rotate(-90)" text-anchor="middle">'
             'wall time, s (log scale)</text>' % (top + ph / 2))
    for i, (label, pts) in enumerate(series):
        colour, marker = COLOURS[i % len(COLOURS)], MARKERS[i % len(MARKERS)]
        xy = " ".join("%.1f,%.1f" % (px(n), py(t)) for n, t in pts)
        s.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>' % (xy, colour))
        s += [_marker(marker, px(n), py(t), colour) for n, t in pts]
        ly = top + 14 + 24 * i
        lx = left + pw + 20
        s.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>' % (
            lx, ly, lx + 30, ly, colour))
        s.append(_marker(marker, lx + 15, ly, colour))
        s.append('<text x="%d" y="%d">%s</text>' % (lx + 38, ly + 4, escape(label)))
    s.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(s) + "\n")
