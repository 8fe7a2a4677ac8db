"""The results of `inception eval` kept in the runs' eval/ folders (evaluation/results.py writes
them), as rows beside the paper's multi-crop and ensemble errors."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inception_cli import catalog
from inception_cli.comparison.paper import PaperError, ensemble_of, single_model_error
from inception_cli.comparison.results import RunResult
from inception_cli.rundir import layout


@dataclass(frozen=True)
class EvalRow:
    path: Path
    models: list[str]  # one per member
    crops: int
    data: str  # "embedded (val)"
    images: int | None
    top1: float
    top5: float
    ema: bool | None
    paper: PaperError | None
    paper_protocol: str  # the paper's crops and images for its number, or why there is none

    @property
    def networks(self) -> str:
        """ "Inception-v3", or an ensemble: "Inception-v4 + 3 × Inception-ResNet-v2"."""
        counts: dict[str, int] = {}
        for model in self.models:
            counts[catalog.display_name(model)] = counts.get(catalog.display_name(model), 0) + 1
        return " + ".join(name if n == 1 else f"{n} × {name}" for name, n in counts.items())


def finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def member_models(record: dict[str, Any]) -> list[str]:
    members = record.get("members")
    if not isinstance(members, list):
        return []
    models = []
    for member in members:
        model = member.get("model") if isinstance(member, dict) else None
        name = model.get("name") if isinstance(model, dict) else None
        models.append(str(name) if name else "?")
    return models


def paper_counterpart(models: list[str], crops: int) -> tuple[PaperError | None, str]:
    if len(models) > 1:
        ensemble = ensemble_of(models)
        if ensemble is None:
            return None, "no such ensemble in the paper"
        return ensemble.error, f"{ensemble.crops} crops, all 50,000 images (Table 5)"
    found = single_model_error(models[0], crops) if models else None
    if found is None:
        return None, "not in the paper"
    paper_crops, error = found
    crops_text = "1 crop" if paper_crops == 1 else f"{paper_crops} crops"
    return error, f"{crops_text}, non-blacklisted images (Table 2)"


def eval_row(path: Path, record: dict[str, Any]) -> EvalRow | None:
    """A row for one result file; None for a file that is not one."""
    protocol = record.get("protocol")
    crops = protocol.get("crops") if isinstance(protocol, dict) else None
    top1, top5 = finite(record.get("top1_error")), finite(record.get("top5_error"))
    models = member_models(record)
    if not isinstance(crops, int) or top1 is None or top5 is None or not models:
        return None
    data = mapping(record.get("data"))
    images = mapping(record.get("images"))
    paper, protocol_text = paper_counterpart(models, crops)
    evaluated = images.get("evaluated")
    return EvalRow(
        path=path,
        models=models,
        crops=crops,
        data=f"{data.get('name', '?')} ({data.get('split', '?')})",
        images=evaluated if isinstance(evaluated, int) else None,
        top1=top1,
        top5=top5,
        ema=record.get("ema") if isinstance(record.get("ema"), bool) else None,
        paper=paper,
        paper_protocol=protocol_text,
    )


def read_eval_rows(found: list[RunResult], warnings: list[str]) -> list[EvalRow]:
    """Every result file in the runs' eval/ folders, once each, by crops then file name."""
    paths = sorted(
        {
            path.resolve(): path
            for run in found
            for path in layout.eval_dir(run.path).glob("*.json")
        }.values()
    )
    rows = []
    for path in paths:
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            warnings.append(f"{path} is not a readable eval result ({err}); left out")
            continue
        row = eval_row(path, record) if isinstance(record, dict) else None
        if row is None:
            warnings.append(f"{path} is not an `inception eval` result; left out")
            continue
        rows.append(row)
    return sorted(rows, key=lambda row: (len(row.models) > 1, row.crops, str(row.path)))
