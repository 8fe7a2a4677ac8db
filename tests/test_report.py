"""The reproduction report in a real browser, the report of real runs, and residual scaling:
the dead-activation share training logs and the `model.residual_scale` overrides it sweeps."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_compare import model_config, write_eval, write_run

from inception_cli.errors import InputError
from inception_cli.rundir import layout
from inception_cli.tasks.compare import run_compare

# Debian names its package chromium; chromium-headless-shell is the headless-only build.
BROWSERS = ("chromium", "chromium-headless-shell", "chromium-browser", "google-chrome")
# Written into a copy of the page: once it has loaded, each image's natural width and the ids of
# the tables go into attributes of <body>, which --dump-dom then prints.
PROBE = """<script>
addEventListener("load", () => {
  const widths = Array.from(document.images, (image) => image.naturalWidth);
  const tables = Array.from(document.querySelectorAll("table"), (table) => table.id);
  document.body.setAttribute("data-image-widths", widths.join(","));
  document.body.setAttribute("data-tables", tables.join(","));
});
</script>"""
SHORT_RUN = [
    "debug=tiny",
    "trainer.max_epochs=2",
    "trainer.limit_train_batches=2",
    "trainer.limit_val_batches=1",
]


@pytest.fixture(scope="module")
def browser() -> str:
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        reason = "no headless browser installed (.ci/browser.sh installs Debian's chromium)"
        print(f"skipped: {reason}")
        pytest.skip(reason)
    return found


def rendered(browser: str, page: Path, tmp_path: Path) -> tuple[list[int], list[str]]:
    """The natural width of every image of `page` and the ids of its tables, as the browser has
    them once the page has loaded from disk."""
    probe = tmp_path / f"probe_{page.name}"
    probe.write_text(page.read_text().replace("</body>", f"{PROBE}</body>"))
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",  # tests may run as root, where chromium refuses its sandbox
            "--disable-gpu",
            "--virtual-time-budget=10000",
            "--dump-dom",
            probe.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    widths = re.search(r'data-image-widths="([^"]*)"', done.stdout)
    tables = re.search(r'data-tables="([^"]*)"', done.stdout)
    assert widths and tables, f"the page did not load: {done.stderr[-2000:]}"
    return [int(w) for w in widths.group(1).split(",") if w], tables.group(1).split(",")


def report_of_every_part(tmp_path: Path) -> Path:
    """A report with all its parts: pair figures, seeds, `inception eval` results, residual
    scaling with a network that died. On 10 classes, as the embedded data: no top-5 figures."""
    root = tmp_path / "runs"
    for seed in (0, 1):
        for model, top1 in (("v3", [60, 45, 35]), ("irv1", [50, 36, 30])):
            curve = [error + seed for error in top1]
            write_run(
                root / f"{seed}_{model}",
                model,
                curve,
                [e / 5 for e in curve],
                config=model_config(model, seed=seed),
                dead=[0.5, 0.5, 0.5] if model == "v3" else [0.6, 0.99, 1.0],
            )
    write_eval(root / "0_v3", "144crop.json", crops=144, models=["v3"], errors=(33.0, 6.0))
    result = run_compare([root], output=tmp_path / "compare", fmt="md")
    return result.reports[0]


def test_report_renders_in_a_browser(browser: str, tmp_path: Path) -> None:
    page = report_of_every_part(tmp_path)
    html = page.read_text()
    widths, tables = rendered(browser, page, tmp_path)
    # fig21, fig26, convergence_top1 and the residual-scaling figure; with 10 classes the top-5
    # figures (fig22, fig25, convergence_top5) are left out, and the report says why.
    assert len(widths) == html.count("<img ") == 4
    assert "Fig 22: top-5 left out (10 classes)" in html
    assert all(width > 0 for width in widths), widths
    assert sorted(tables) == sorted(["table2", "convergence", "evals", "scaling", "runs"])

    # The probe tells a broken image from a loaded one.
    broken = tmp_path / "broken.html"
    broken.write_text(html.replace("data:image/png;base64,iVBOR", "data:image/png;base64,AAAA", 1))
    broken_widths, _ = rendered(browser, broken, tmp_path)
    assert sorted(broken_widths)[0] == 0 and len(broken_widths) == 4


def test_a_registered_figure_is_drawn_and_reported(tmp_path: Path, monkeypatch) -> None:
    """Adding a figure is a drawing function and one registry entry: this toy, known to no other
    module, is drawn into the output folder, guarded there like the others, and shown in both
    reports under its own section, which follows the one it names."""
    from inception_cli.comparison import figure_registry
    from inception_cli.comparison.plots import Series, draw_convergence

    def draw_toy(result):
        line = Series("toy line", "v3", "#1f77b4", False, [1.0, 2.0], [60.0, 40.0])
        stem = result.output_dir / "toy_figure"
        return [
            draw_convergence(
                [line], title="Toy", x_label="x", y_label="y", threshold=None, stem=stem
            )
        ]

    section = figure_registry.FigureSection(
        "toy", "Toy figures", after="evals", text=lambda result: ["What the toy shows."]
    )
    toy = figure_registry.FigureKind(
        "toy", draw_toy, lambda metrics: ["toy_figure"], section, caption="Toy caption: {title}"
    )
    monkeypatch.setattr(figure_registry, "FIGURE_KINDS", [*figure_registry.FIGURE_KINDS, toy])
    root = tmp_path / "runs"
    for model, dead in (("v3", [0.5, 0.5]), ("irv1", [0.5, 0.6])):
        write_run(
            root / f"0_{model}", model, [60, 40], [20, 10], config=model_config(model), dead=dead
        )
    output = tmp_path / "out"
    result = run_compare([root], metric="top1", output=output, fmt="md")

    assert (output / "toy_figure.png").stat().st_size > 1000
    assert (output / "toy_figure.svg").is_file()
    assert result.figures[-2:] == [output / "toy_figure.png", output / "toy_figure.svg"]
    html = (output / "report.html").read_text()
    # Its section comes after the one it names, and after the residual-scaling section that
    # names the same one but was registered first.
    sections = re.findall(r'<section id="([^"]+)">', html)
    assert sections == ["statement", "figures", "table2", "evals", "scaling", "toy", "runs"]
    toy_html = html.split('<section id="toy">')[1].split("</section>")[0]
    assert "<h2>Toy figures</h2>" in toy_html and "<p>What the toy shows.</p>" in toy_html
    assert '<figure id="toy_figure"><img src="data:image/png;base64,' in toy_html
    assert "<figcaption>Toy caption: Toy</figcaption>" in toy_html
    assert html.count("toy_figure") == 1
    markdown = (output / "report.md").read_text()
    toy_md = markdown.split("## Toy figures\n")[1].split("\n## ")[0]
    assert "What the toy shows." in toy_md
    assert "![Toy caption: Toy](toy_figure.png)" in toy_md
    assert markdown.count("toy_figure.png") == 1

    # Its files are known before anything is drawn: a user's file of its name is never replaced.
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "toy_figure.svg").write_text("<svg>my own drawing</svg>")
    with pytest.raises(InputError, match="toy_figure.svg exists and is not a figure"):
        run_compare([root], metric="top1", output=mine)
    assert (mine / "toy_figure.svg").read_text() == "<svg>my own drawing</svg>"


def scalars(metrics: Path, column: str) -> list[float]:
    import csv

    with metrics.open() as file:
        return [float(row[column]) for row in csv.DictReader(file) if row.get(column)]


@pytest.mark.slow
def test_train_seeds_then_compare_writes_the_report(inception, tmp_path: Path) -> None:
    """Acceptance: two models, two seeds, then the figures by number and the report. The
    synthetic data has 10 classes, as the embedded data: the top-1 figures only, and a note on
    why (test_compare.py draws all of Figs 21-26 on 20 classes)."""
    trained = inception("train", "-m", "model=v3,irv1", "seed=0,1", *SHORT_RUN, timeout=900)
    assert trained.returncode == 0, trained.stderr[-3000:]
    (sweep,) = (tmp_path / "runs").iterdir()
    compared = inception("compare", str(sweep.relative_to(tmp_path)), "--output", "out")
    assert compared.returncode == 0, compared.stderr[-3000:]
    out = tmp_path / "out"
    assert compared.stdout.strip().splitlines()[-1] == "report: out/report.html"
    for stem in ("fig21_top1_v3_vs_irv1", "fig26_top1_all"):
        assert (out / f"{stem}.png").stat().st_size > 1000 and (out / f"{stem}.svg").is_file()
    assert not list(out.glob("fig23*")) and not list(out.glob("fig24*"))
    assert not list(out.glob("*top5*"))
    assert "Note: With 10 classes the top-5 error says little" in compared.stdout

    html = (out / "report.html").read_text()
    # fig21, fig26, convergence_top1, and the residual-scaling figure (training logs the share
    # of dead activations of every model).
    assert html.count('<img src="data:image/png;base64,') == html.count("<img ") == 4
    assert 'id="residual_scaling_dead_fraction"' in html
    assert "Fig 25: top-5 left out (10 classes)" in html
    markdown = (out / "report.md").read_text()
    v3_row = next(line for line in markdown.splitlines() if line.startswith("| Inception-v3 |"))
    assert "| Inception-v3 | 21.2 | 5.6 |" in v3_row and "| 2 | synthetic, 10 classes |" in v3_row
    assert re.search(r"\| 21\.2 \| 5\.6 \| \d+\.\d ± \d+\.\d \| \d+\.\d ± \d+\.\d \|", v3_row)
    statement = compared.stdout
    assert "mean of 2 seeds" in statement or "2 seeds each" in statement
    assert "2 seeds each" in markdown or "mean of 2 seeds" in markdown


@pytest.mark.slow
def test_residual_scale_sweep_logs_the_dead_fraction(inception, tmp_path: Path) -> None:
    """Acceptance: one number for every stage sweeps, and metrics.csv holds the dead share."""
    trained = inception(
        "train", "-m", "model=irv2", "model.residual_scale=1.0,0.1", *SHORT_RUN, timeout=900
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    sweep = next((tmp_path / "runs").iterdir())
    runs = sorted(path for path in sweep.iterdir() if layout.is_run_dir(path))
    assert len(runs) == 2
    for run in runs:
        dead = scalars(layout.metrics_path(run), "train/dead_fraction")
        assert len(dead) == 4 and all(0.0 <= share <= 1.0 for share in dead)  # 2 epochs x 2 steps
    compared = run_compare([sweep], output=tmp_path / "out", fmt="md")
    drawn = compared.paper_figures["residual_scaling_dead_fraction"]
    labels = " ".join(drawn.legend)
    assert "residual_scale=1.0" in labels and "residual_scale=0.1" in labels


def test_one_residual_scale_for_every_stage_passes_the_checks(tmp_path: Path, monkeypatch) -> None:
    """What `inception train` checks before it hands over: one number, a sweep of numbers and
    one per stage pass; anything else is refused with one line."""
    from inception_cli.tasks.launch import prepare_train_argv

    monkeypatch.chdir(tmp_path)
    prepare_train_argv(["model=irv2", "model.residual_scale=0.1"])
    prepare_train_argv(["-m", "model=irv2", "model.residual_scale=1.0,0.1"])
    prepare_train_argv(["model=irv2", "model.residual_scale=[0.17,0.1,0.2]"])
    with pytest.raises(InputError, match="model.residual_scale='big'"):
        prepare_train_argv(["model=irv2", "model.residual_scale=big"])


def test_experiment_sweeps_the_residual_scale() -> None:
    from inception_cli.config.compose import compose_train_config, config_dir

    cfg = compose_train_config(["experiment=residual_scaling"])
    assert cfg.model.name == "irv2" and cfg.model.width == 0.5
    import yaml

    sweep = yaml.safe_load((config_dir() / "experiment" / "residual_scaling.yaml").read_text())
    params = sweep["hydra"]["sweeper"]["params"]
    assert params["model.residual_scale"].split(",")[0] == "1.0"
    scales = [float(value) for value in params["model.residual_scale"].split(",")]
    assert any(0.1 <= scale <= 0.3 for scale in scales)


def test_dead_fraction_is_measured_before_the_pooling_in_training_only() -> None:
    import torch

    from inception_cli.models import create_model
    from inception_cli.training.module import InceptionClassifier

    network = create_model("irv1", num_classes=10, in_chans=3, width=0.1)
    module = InceptionClassifier(network, optimizer=torch.optim.SGD)
    images = torch.randn(2, 3, 75, 75)
    module.eval()
    with torch.no_grad():
        module(images)
    assert module.dead_fraction.value is None  # validation does not count
    module.train()
    with torch.no_grad():
        module(images)
        features = network.forward_features(images)
    value = module.dead_fraction.value
    assert value is not None and 0.0 < float(value) < 1.0
    assert float(value) == pytest.approx(float((features == 0).float().mean()), abs=1e-6)
    # The moving average of the weights carries no hook: it would overwrite the value.
    assert module.ema_model is not None and not module.ema_model.global_pool._forward_pre_hooks
