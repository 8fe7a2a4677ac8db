"""The tables of the reproduction report, as header and cells: the measured single-crop errors
beside the paper's Table 2, `inception eval` results beside its multi-crop and ensemble numbers,
the residual-scaling groups, and the runs with their settings."""

from __future__ import annotations

from dataclasses import dataclass

from inception_cli import catalog
from inception_cli.comparison.evals import EvalRow
from inception_cli.comparison.paper import SINGLE_CROP, paper_network
from inception_cli.comparison.results import GroupResult, Stat
from inception_cli.comparison.scaling import final_dead, logs_dead_fraction, peak_dead, scale_label
from inception_cli.comparison.text import MISSING, format_error, format_stat

PAPER_PAIR = "{top1} / {top5}"


@dataclass(frozen=True)
class Table:
    id: str  # the HTML id, also what tests look for
    caption: str
    header: list[str]
    rows: list[list[str]]


def paper_cells(model: str) -> list[str]:
    network = paper_network(model)
    error = SINGLE_CROP.get(network) if network else None
    if network is None or error is None:
        return [MISSING, MISSING, MISSING]
    return [network, format_error(error.top1), format_error(error.top5)]


def data_of(group: GroupResult) -> str:
    settings = group.runs[0].settings
    if settings is None or settings.data is None:
        return MISSING
    classes = f", {settings.num_classes} classes" if settings.num_classes else ""
    return f"{settings.data}{classes}"


def table2(groups: list[GroupResult]) -> Table:
    """Per group of seeds: the final validation error (single centre crop, the mean over the
    seeds ± their standard deviation) beside the paper's single-crop error."""
    header = ["network", "paper's network", "paper top-1", "paper top-5"]
    header += ["measured top-1", "measured top-5", "seeds", "measured on"]
    rows = [
        [
            group.label,
            *paper_cells(group.model),
            format_stat(group.final["top1"]),
            format_stat(group.final["top5"]),
            str(len(group.aggregated)),
            data_of(group),
        ]
        for group in groups
    ]
    caption = (
        "Single-crop validation error (%): measured at the end of training (mean ± standard"
        " deviation over the seeds) beside the paper's Table 2"
    )
    return Table("table2", caption, header, rows)


def eval_table(rows: list[EvalRow]) -> Table:
    header = ["network(s)", "crops", "data", "images", "weights", "measured top-1"]
    header += ["measured top-5", "paper top-1", "paper top-5", "paper's protocol"]
    cells = [
        [
            row.networks,
            str(row.crops),
            row.data,
            str(row.images) if row.images is not None else MISSING,
            {True: "EMA", False: "raw", None: MISSING}[row.ema],
            f"{row.top1:.2f}",
            f"{row.top5:.2f}",
            format_error(row.paper.top1) if row.paper else MISSING,
            format_error(row.paper.top5) if row.paper else MISSING,
            row.paper_protocol,
        ]
        for row in rows
    ]
    caption = "`inception eval` results (%) beside the paper's multi-crop and ensemble errors"
    return Table("evals", caption, header, cells)


def percent(value: Stat | None) -> str:
    if value is None:
        return MISSING
    scaled = Stat(mean=100 * value.mean, std=100 * value.std, n=value.n)
    return format_stat(scaled)


def scaling_table(groups: list[GroupResult]) -> Table:
    header = ["network", "residual scale", "dead at the end (%)", "dead at most (%)"]
    header += ["final top-1 (%)", "seeds"]
    rows = []
    for group in groups:
        if not logs_dead_fraction(group):
            continue
        settings = group.runs[0].settings
        scale = settings.residual_scale if settings and group.residual else None
        rows.append(
            [
                scale_label(group),
                scale or MISSING,
                percent(final_dead(group)),
                percent(peak_dead(group)),
                format_stat(group.final["top1"]),
                str(len(group.aggregated)),
            ]
        )
    caption = (
        "Share of exact zeros in the features before the average pooling (train/dead_fraction)"
        " at the last logged step, and at its highest"
    )
    return Table("scaling", caption, header, rows)


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return MISSING
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.2f} h"


def group_cells(group: GroupResult) -> list[str]:
    settings = [run.settings for run in group.runs if run.settings is not None]
    first = settings[0] if settings else None
    seeds = sorted({s.seed for s in settings if s.seed is not None})
    walls = [s.wall_time_s for s in settings if s.wall_time_s is not None]
    return [
        group.label,
        catalog.display_name(group.model),
        f"{first.width:g}" if first and first.width is not None else MISSING,
        data_of(group),
        str(first.max_epochs) if first and first.max_epochs is not None else MISSING,
        ", ".join(map(str, seeds)) or MISSING,
        format_duration(sum(walls) / len(walls) if walls else None),
        ", ".join(run.run_id for run in group.runs),
        group.status,
    ]


def runs_table(groups: list[GroupResult]) -> Table:
    header = ["group", "model", "width", "data", "epochs", "seeds", "wall time (mean)", "runs"]
    header.append("status")
    caption = "The runs, grouped where they differ only in the seed, and their settings"
    return Table("runs", caption, header, [group_cells(group) for group in groups])
