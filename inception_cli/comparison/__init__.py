"""The paper's convergence comparison, read from run directories.

Figs 21-24 of the paper set each residual network against the pure Inception network of similar
cost (Inception-ResNet-v1 vs Inception-v3, Inception-ResNet-v2 vs Inception-v4); Figs 25 (top-5)
and 26 (top-1) show all four together: the residual versions converge faster, while the final
error depends mainly on model size. These modules read `metrics.csv`, `summary.json`, the saved
config and the `inception eval` results of each run directory (all through `inception_cli/rundir/layout.py`)
and never import torch or Lightning, so they work on a laptop holding run directories copied back
from a cluster, and on runs still in progress. The models' names, pairs, colours and order come
from `inception_cli/catalog.py`; the paper's numbers from `paper.py`.

    options.py        the command's options, checked before any run is read
    build.py          a comparison from run directories: everything but the figures
    results.py        what a comparison holds: runs, curves, groups, figures drawn
    curves.py         finding run directories and reading each into a validation curve
    settings.py       what each run was set up with (its config), to group its seeds
    classes.py        the number of classes, and leaving the top-5 error out on few of them
    thresholds.py     the error threshold and where each run first reached it
    groups.py         runs of one model, or seeds of one setting, as mean and deviation
    noise.py          whether a gap between two groups is larger than their seeds' spread
    statement.py      the sentences that say who converged first, over how many seeds
    text.py           how numbers and names read in tables, sentences and legends
    tables.py         the Table 2 style table as rich, Markdown, CSV or JSON
    output.py         the output folder, created first, and the files compare may replace there
    series.py         groups as figure lines: mean over seeds with a band
    figure_registry.py  every figure drawn: its function, files and report section
    figures.py        the overview figures convergence_top1 / _top5 (every run)
    paper_figures.py  Figs 21-26 by number, over seeds
    scaling.py        residual scaling (section 3.3): dead activations beside the error
    plots.py          drawing figures (matplotlib, imported when drawing)
    paper.py          the paper's numbers (Tables 2 and 5) and figures, with their source
    evals.py          `inception eval` results of the runs, beside the paper's
    report.py         the report's sections; report_tables.py its tables
    report_html.py    report.html, self-contained; report_md.py report.md
    report_files.py   writing both reports
"""
