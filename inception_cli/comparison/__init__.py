"""The paper's convergence comparison, read from run directories.

Figs 21-24 of the paper set each residual network against the pure Inception network of similar
cost (Inception-ResNet-v1 vs Inception-v3, Inception-ResNet-v2 vs Inception-v4); Figs 25 (top-5)
and 26 (top-1) show all four together: the residual versions converge faster, while the final
error depends mainly on model size. These modules read only `metrics.csv` and `summary.json` of
each run directory and never import torch or Lightning, so they work on a laptop holding run
directories copied back from a cluster, and on runs still in progress. The models' names, pairs,
colours and order come from `inception_cli/catalog.py`.

    options.py     the command's options, checked before any run is read
    build.py       a comparison from run directories: everything but the figures
    results.py     what a comparison holds: runs, curves, groups, figures drawn
    curves.py      finding run directories and reading each into a validation curve
    thresholds.py  the error threshold and where each run first reached it
    groups.py      runs of one model (seeds) as mean and standard deviation
    statement.py   the sentences that say who converged first
    text.py        how numbers and names read in tables, sentences and legends
    tables.py      the Table 2 style table as rich, Markdown, CSV or JSON
    figures.py     the Figs 25/26 style figures of a comparison and the folder they go to
    plots.py       drawing one convergence figure (matplotlib, imported when drawing)
"""
