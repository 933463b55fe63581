"""Render an evaluation report as one self-contained HTML page.

Plots are inline SVG drawn here (no plotting library, no script or font from the network), so
the file opens anywhere, offline, and stays small. Order of the page: headline scores against
their ceilings, the worst columns and pairs, a distribution plot per column (worst first),
scatter plots of the most correlated numeric pairs, association heatmaps (real, synthetic,
difference), then the notes.
"""

from __future__ import annotations

import html
from typing import Any, Sequence

from synthvae.evaluation.report import detection_far_off, far_off, shortfall

REAL = "#1f5fa8"
SYNTH = "#e8731a"
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;
background:#fafafa}h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#fff;border:1px solid #ddd;
border-radius:6px;padding:10px 14px;min-width:190px}.card .v{font-size:24px;font-weight:600}
.card .c{color:#666;font-size:13px}.grid{display:flex;flex-wrap:wrap;gap:14px}
.fig{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px}
.fig h3{font-size:14px;margin:0 0 4px 0;overflow-wrap:anywhere}table{border-collapse:collapse;font-size:13px;background:#fff}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right;white-space:nowrap}
td:first-child,th:first-child{text-align:left;white-space:normal;overflow-wrap:anywhere;min-width:12em;max-width:36em}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}
.bad{color:#b00020}.note{color:#555;font-size:13px}
table,.fig{display:block;max-width:100%;overflow-x:auto;box-sizing:border-box}h1,p,li{overflow-wrap:anywhere}
@media (max-width:600px){body{margin:8px}.card{min-width:0;flex:1 1 100%}}
"""
_SCRIPT = """
(function(){var s=document.querySelectorAll('svg.plot'),ok=0;
for(var i=0;i<s.length;i++){var b=s[i].getBBox();if(b.width>0&&b.height>0)ok++;}
document.body.setAttribute('data-plots',String(s.length));
document.body.setAttribute('data-plots-rendered',String(ok));})();
"""


def render(data: dict, figures: dict) -> str:
    """The HTML page of a report (``EvaluationReport.to_dict()`` and its ``figures``)."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>synthvae evaluation</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>synthvae evaluation</h1>",
        f"<p class='note'>{_e(_tables_line(data))}</p>",
        "<p class='legend'>Colours:<span style='background:" + REAL + "'></span>real"
        "<span style='background:" + SYNTH + "'></span>synthetic</p>",
        _headline(data),
        _worst_tables(data),
        _distributions(figures.get("distributions", []), ordered=bool(data.get("quality"))),
        _scatters(figures.get("scatter", [])),
        _heatmaps(figures.get("heatmap")),
        _notes(data),
        f"<script>{_SCRIPT}</script></body></html>\n",
    ]
    return "\n".join(p for p in parts if p)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _f(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _tables_line(data: dict) -> str:
    bits = []
    for name, t in data["tables"].items():
        used = f"{t['rows_used']:,}"
        bits.append(f"{name}: {used} rows" + (f" (of {t['rows']:,})" if t["subsampled"] else ""))
    return "; ".join(bits) + f"; {len(data['columns'])} columns evaluated; seed {data['settings']['seed']}"


# --- headline ------------------------------------------------------------------------------


def _headline(data: dict) -> str:
    ceiling = data.get("ceiling") or {}
    cq = ceiling.get("quality") or {}
    cards = []
    q = data.get("quality")
    if q:
        # Smaller tables score lower by chance alone: with a ceiling of fewer holdout rows, the
        # cards hold the synthetic table's score at the holdout's size against it.
        same = q.get("at_holdout_size")
        for key, title in (("score", "Quality score"), ("column_shapes", "Column shapes"),
                           ("column_pair_trends", "Column pair trends"),
                           ("missing_values", "Missing values")):
            if same:
                caption = f"higher is better; at the holdout's {same['rows']:,} rows (all rows: {_f(q[key])})"
                cards.append(_card(title, same[key], cq.get(key), 0.0, 1.0, caption))
            else:
                cards.append(_card(title, q[key], cq.get(key), 0.0, 1.0, "higher is better"))
    u = data["utility"]
    if u.get("tstr") is not None or u.get("trtr") is not None:
        cards.append(_card(f"Utility TSTR ({u['metric']})", u["tstr"], u["trtr"], 0.0, 1.0,
                           f"target {u['target']}: a model trained on the synthetic rows, tested on real held-out ones "
                           f"(TSTR), against one trained on the real rows (TRTR)", ceiling_name="TRTR",
                           bad=u["trtr"] is not None and far_off(u["tstr"], u["trtr"], False, 1.0)))
    det = data["detection"]
    if det.get("auc") is not None:
        held = (ceiling.get("detection") or {}).get("auc")
        cards.append(_card("Detection AUC", det["auc"], held, 0.5, 1.0,
                           "a classifier telling synthetic rows from real ones: 0.5 = indistinguishable, 1 = always told "
                           "apart", lower_better=True,
                           bad=detection_far_off(det, held)))
    p = data["privacy"]
    if p.get("dcr_closer_to_train_share") is not None:
        cards.append(_card("DCR closer-to-train share", p["dcr_closer_to_train_share"], 0.5, 0.0,
                           1.0, "distance to closest record (DCR): the share of synthetic rows nearer a training row "
                           "than a held-out one; 0.5 is ideal, above it they sit near training rows, below it nearer "
                           "the held-out ones", ceiling_name="ideal"))
    if p.get("membership_auc") is not None:
        cards.append(_card("Membership-inference AUC", p["membership_auc"], 0.5, 0.0, 1.0,
                           "0.5 is ideal: training rows no nearer the synthetic rows than fresh ones", ceiling_name="ideal"))
    if p.get("exact_copy_rate") is not None:
        cards.append(_card("Exact copy rate", p["exact_copy_rate"], p.get("holdout_exact_copy_rate"),
                           0.0, 1.0, "share of synthetic rows that copy a training row", lower_better=True,
                           ceiling_name="holdout"))
    if p.get("near_copy_rate") is not None:
        cards.append(_card("Near copy rate", p["near_copy_rate"], p.get("holdout_near_copy_rate"), 0.0, 1.0,
                           "share of synthetic rows equal to a training row but for numbers within 0.1% of their spread",
                           lower_better=True, ceiling_name="holdout"))
    html = "<h2>Headline scores</h2><div class='cards'>" + "".join(cards) + "</div>"
    g = data.get("guarantee")
    if g:
        # One row replaced (the count public) was in the text summary and the JSON only (a review).
        other = g.get("replace_one") if g.get("adjacency") == "add_remove" else None
        html += (f"<p class='guarantee'>Differential privacy: trained at epsilon {g['epsilon']:.3f}, "
                 f"delta {g['delta']:.2g} ({_e(str(g.get('accountant', '')))}); covers {_e(str(g.get('covers', '')))}"
                 + (f"; one row replaced, the count public: epsilon {other['epsilon']:.3f}" if other else "") + ".</p>")
    return html


def _card(title, value, ceiling, lo, hi, caption, lower_better=False, ceiling_name="ceiling", bad=False):
    width = 170
    def x(v):
        return 0 if v is None else max(0.0, min(1.0, (v - lo) / (hi - lo))) * width
    bar = (f"<svg class='plot' width='{width}' height='14' role='img' aria-label='{_e(title)}'>"
           f"<rect x='0' y='3' width='{width}' height='8' fill='#e4e4e4'/>"
           f"<rect x='0' y='3' width='{x(value):.1f}' height='8' fill='{SYNTH if lower_better else REAL}'/>")
    if ceiling is not None:
        bar += f"<rect x='{max(0.0, x(ceiling) - 1):.1f}' y='0' width='2' height='14' fill='#222'/>"
    bar += "</svg>"
    limit = "" if ceiling is None else f" · {ceiling_name} {_f(ceiling)}"
    value_class = "v bad" if bad else "v"  # far from its ceiling: the notes say what it means
    return (f"<div class='card'><div>{_e(title)}</div><div class='{value_class}'>{_f(value)}</div>{bar}"
            f"<div class='c'>{_e(caption)}{_e(limit)}</div></div>")


# --- worst columns and pairs -----------------------------------------------------------------


def _worst_tables(data: dict) -> str:
    q = data.get("quality")
    if not q:
        return ""
    cols = sorted(q["columns"], key=shortfall)
    # With a holdout smaller than the synthetic table, the scores at its size are what to hold
    # against the ceilings (fewer rows score lower by chance alone).
    same = q.get("at_holdout_size")
    small = (f"<th title='the synthetic table subsampled to the holdout&#39;s rows: what to hold against the ceiling'>"
             f"at {same['rows']:,} rows</th>") if same else ""
    cell = (lambda item: f"<td>{_f(item.get('at_holdout_size'))}</td>") if same else (lambda item: "")  # noqa: E731
    rows = []
    for c in cols[:15]:
        cov = c["coverage"]
        extra = ""
        if "category_coverage" in cov:
            extra = f"categories covered {_f(cov['category_coverage'], 2)}"
            if cov["synthetic_categories_not_in_real"]:
                extra += f"; {len(cov['synthetic_categories_not_in_real'])} invented"
        elif cov.get("range_coverage") is not None:
            extra = (f"range covered {_f(cov['range_coverage'], 2)}; outside "
                     f"{_f(cov['synthetic_outside_real_range'], 3)}")
        rows.append(
            f"<tr><td>{_e(c['column'])}</td><td>{_e(c['metric'])}</td><td>{_f(c['score'])}</td>{cell(c)}"
            f"<td>{_f(c.get('ceiling'))}</td><td>{_f(c['null_rate']['real'])} / "
            f"{_f(c['null_rate']['synthetic'])}</td><td>{_e(extra)}</td></tr>")
    out = ["<h2>Worst columns</h2><table><tr><th>column</th><th>metric</th><th>score</th>"
           f"{small}<th>ceiling</th><th>nulls real / synth</th><th>coverage</th></tr>", *rows, "</table>"]
    pairs = sorted(q["pairs"], key=shortfall)
    if pairs:
        out.append("<h2>Worst pairs</h2><table><tr><th>pair</th><th>metric</th><th>score</th>"
                   f"{small}<th>ceiling</th><th>real r / V</th><th>synthetic r / V</th></tr>")
        for p in pairs[:15]:
            out.append(f"<tr><td>{_e(' ~ '.join(p['columns']))}</td><td>{_e(p['metric'])}</td>"
                       f"<td>{_f(p['score'])}</td>{cell(p)}<td>{_f(p.get('ceiling'))}</td>"
                       f"<td>{_f(p['real'])}</td><td>{_f(p['synthetic'])}</td></tr>")
        out.append("</table>")
    return "\n".join(out)


# --- distributions -----------------------------------------------------------------------------


def _distributions(items: Sequence[dict], ordered: bool) -> str:
    """The columns' distributions: worst first where quality was measured (the figures come in
    its order), else in the schema's."""
    if not items:
        return ""
    figs = []
    for d in items:
        svg = _histogram(d) if d["type"] == "histogram" else _bars(d)
        figs.append(f"<div class='fig'><h3>{_e(d['column'])} <small>({_e(d['kind'])})</small></h3>{svg}</div>")
    heading = "Distributions, worst column first" if ordered else "Distributions"
    return f"<h2>{heading}</h2><div class='grid'>" + "".join(figs) + "</div>"


def _histogram(d: dict) -> str:
    w, h, pad, base = 340, 170, 30, 140
    if not d["edges"]:
        return "<p class='note'>no values</p>"
    top = max(max(d["real"], default=0), max(d["synthetic"], default=0)) or 1.0
    n = len(d["real"])
    bw = (w - 2 * pad) / n
    out = [f"<svg class='plot' width='{w}' height='{h}' role='img'>",
           f"<line x1='{pad}' y1='{base}' x2='{w - pad}' y2='{base}' stroke='#888'/>"]
    for values, colour in ((d["real"], REAL), (d["synthetic"], SYNTH)):
        for i, v in enumerate(values):
            bh = v / top * (base - 10)
            if bh > 0:
                out.append(f"<rect x='{pad + i * bw:.1f}' y='{base - bh:.1f}' width='{bw:.1f}' "
                           f"height='{bh:.1f}' fill='{colour}' fill-opacity='0.5'/>")
    lo, hi = d["labels"]
    out.append(f"<text x='{pad}' y='{base + 14}' font-size='10'>{_e(lo)}</text>")
    out.append(f"<text x='{w - pad}' y='{base + 14}' font-size='10' text-anchor='end'>{_e(hi)}</text>")
    out.append(f"<text x='{pad}' y='{h - 2}' font-size='10' fill='#555'>nulls: real "
               f"{d['null_real']:.1%}, synthetic {d['null_synthetic']:.1%}</text>")
    out.append("</svg>")
    return "".join(out)


def _bars(d: dict) -> str:
    labels = d["labels"]
    row, label_w, w = 18, 120, 340
    h = row * len(labels) + 10
    top = max(max(d["real"], default=0), max(d["synthetic"], default=0)) or 1.0
    out = [f"<svg class='plot' width='{w}' height='{h}' role='img'>"]
    for i, label in enumerate(labels):
        y = 4 + i * row
        text = label if len(label) <= 18 else label[:17] + "…"
        out.append(f"<text x='{label_w - 4}' y='{y + 12}' font-size='11' text-anchor='end'>"
                   f"<title>{_e(label)}</title>{_e(text)}</text>")
        for k, (values, colour) in enumerate(((d["real"], REAL), (d["synthetic"], SYNTH))):
            bw = values[i] / top * (w - label_w - 10)
            out.append(f"<rect x='{label_w}' y='{y + 1 + 7 * k}' width='{bw:.1f}' height='7' "
                       f"fill='{colour}'><title>{values[i]:.3f}</title></rect>")
    out.append("</svg>")
    return "".join(out)


# --- scatter ---------------------------------------------------------------------------------


def _scatters(items: Sequence[dict]) -> str:
    if not items:
        return ""
    figs = []
    for s in items:
        a, b = s["columns"]
        figs.append(f"<div class='fig'><h3>{_e(a)} vs {_e(b)}</h3>{_scatter(s)}"
                    f"<div class='note'>r real {_f(s['real_r'], 2)}, synthetic "
                    f"{_f(s['synthetic_r'], 2)}; score {_f(s['score'])}</div></div>")
    return ("<h2>Most correlated numeric pairs</h2><div class='grid'>" + "".join(figs) + "</div>")


def _scatter(s: dict) -> str:
    w = h = 260
    pad = 12
    xs = s["real"][0] + s["synthetic"][0]
    ys = s["real"][1] + s["synthetic"][1]
    if not xs:
        return "<p class='note'>no rows with both values</p>"
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx = (w - 2 * pad) / ((x1 - x0) or 1.0)
    sy = (h - 2 * pad) / ((y1 - y0) or 1.0)
    out = [f"<svg class='plot' width='{w}' height='{h}' role='img'>",
           f"<rect x='0' y='0' width='{w}' height='{h}' fill='none' stroke='#ddd'/>"]
    for (px, py), colour in ((s["real"], REAL), (s["synthetic"], SYNTH)):
        out.append(f"<g fill='{colour}' fill-opacity='0.45'>")
        out.extend(f"<circle cx='{pad + (x - x0) * sx:.1f}' cy='{h - pad - (y - y0) * sy:.1f}' r='2'/>"
                   for x, y in zip(px, py))
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


# --- heatmaps --------------------------------------------------------------------------------


def _heatmaps(heat: dict | None) -> str:
    if not heat or len(heat["columns"]) < 2:
        return ""
    figs = [
        _heatmap_fig("Real", heat, heat["real"], _diverging),
        _heatmap_fig("Synthetic", heat, heat["synthetic"], _diverging),
        _heatmap_fig("|Real − synthetic|", heat, heat["difference"], _sequential),
    ]
    shown = len(heat["columns"])
    # Loans' 55 columns showed 30 with nothing said, and the colours had no key (an HTML review).
    chosen = (f" The {shown} of {heat['of']} columns whose pairs are reproduced worst." if heat.get("of", shown) > shown
              else "")
    return ("<h2>Associations</h2><p class='note'>Pearson r for numeric pairs, Cramér's V for the "
            "others (numeric columns binned): red positive, blue negative, white none; the difference in purple, "
            "darker further apart; grey where a pair has no value (a constant column). Hover a cell or a label for "
            f"its names.{chosen}</p><div class='grid'>" + "".join(figs) + "</div>")


def _heatmap_fig(title: str, heat: dict, matrix, colour) -> str:
    names = heat["columns"]
    n = len(names)
    cell = max(8, min(22, 440 // n))
    label = 110
    size = label + cell * n + 4
    # The last columns' slanted labels reach past the grid: room for them ("number_custo…" was cut).
    out = [f"<svg class='plot' width='{size + 50}' height='{size}' role='img'>"]
    for i, name in enumerate(names):
        short = name if len(name) <= 16 else name[:15] + "…"
        out.append(f"<text x='{label - 4}' y='{label + i * cell + cell * 0.7:.1f}' font-size='10' "
                   f"text-anchor='end'><title>{_e(name)}</title>{_e(short)}</text>")
        out.append(f"<text transform='translate({label + i * cell + cell * 0.7:.1f},{label - 4}) "
                   f"rotate(-60)' font-size='10'><title>{_e(name)}</title>{_e(short)}</text>")
    for i in range(n):
        for j in range(n):
            v = matrix[i][j]
            tip = f"{names[i]} ~ {names[j]}: {'n/a' if v is None else f'{v:.3f}'}"
            out.append(f"<rect x='{label + j * cell}' y='{label + i * cell}' width='{cell}' "
                       f"height='{cell}' fill='{colour(v)}'><title>{_e(tip)}</title></rect>")
    out.append("</svg>")
    return f"<div class='fig'><h3>{_e(title)}</h3>{''.join(out)}</div>"


def _diverging(v) -> str:
    if v is None:
        return "#eeeeee"
    v = max(-1.0, min(1.0, v))
    if v >= 0:
        return _mix((255, 255, 255), (178, 24, 43), v)
    return _mix((255, 255, 255), (33, 102, 172), -v)


def _sequential(v) -> str:
    if v is None:
        return "#eeeeee"
    return _mix((255, 255, 255), (90, 20, 110), max(0.0, min(1.0, v)))


def _mix(a, b, t) -> str:
    return "#%02x%02x%02x" % tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))


def _notes(data: dict) -> str:
    notes = list(data.get("notes", []))
    for key in ("utility", "detection", "privacy"):
        skipped = (data.get(key) or {}).get("skipped")
        if skipped:
            notes.append(f"{key}: {skipped}")
    if not notes:
        return ""
    return "<h2>Notes</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>"
