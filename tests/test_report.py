"""Tests of the HTML report (tsforecast.report): structure, self-containment, escaping, sections, browser."""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from markupsafe import escape

import tsforecast as tsf
from tsforecast.report import MAX_PANELS, TITLE, figures, render_report, training_chart, write_report

EVIL = "<script>alert(1)</script>"
SECTIONS = [
    "Run settings",
    "Fold timeline",
    "Leaderboard",
    "Forecast vs actual",
    "Error by horizon step",
    "Leakage audit",
]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


# ----------------------------------------------------------------------------------- fixtures ---- #


@pytest.fixture(scope="module")
def air() -> tsf.BacktestResult:
    return tsf.backtest(
        "seasonal_naive", tsf.load_dataset("air_passengers"), tsf.WalkForward(3, 12), baselines=("naive",), audit=True
    )


@pytest.fixture(scope="module")
def panel() -> tsf.BacktestResult:
    return tsf.backtest(
        "seasonal_naive", tsf.load_dataset("arrivals"), tsf.WalkForward(4, 8), baselines=("naive", "drift")
    )


@pytest.fixture(scope="module")
def air_html(air: tsf.BacktestResult, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = air.save(tmp_path_factory.mktemp("air"))
    path = out / "report.html"
    return path, path.read_text(encoding="utf-8")


def _training_log(folds: int = 2, members: int | None = None, model: str = "seasonal_naive") -> pd.DataFrame:
    rows = []
    for fold in range(folds):
        for member in range(members or 1):
            for epoch in range(1, 21):
                lr = 0.05 * 0.9**epoch
                cost = 1.0 / epoch + 0.1 * member
                row = {"model": model, "fold": fold, "epoch": epoch, "lr": lr, "train_cost": cost}
                row["val_cost"] = cost * 1.2
                if members is not None:
                    row["member"] = member
                rows.append(row)
    return pd.DataFrame(rows)


class _StrictParser(HTMLParser):
    """Checks that every element is closed in order (void and self-closed SVG elements excepted)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.headings: list[str] = []
        self.title = ""
        self._heading: list[str] | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "h2":
            self._heading = []
        self._in_title = tag == "title" and len(self.stack) == 3  # html > head > title

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}> at {self.getpos()}")
            return
        self.stack.pop()
        if tag == "h2" and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)
        if self._in_title:
            self.title += data


def _parse(html: str) -> _StrictParser:
    parser = _StrictParser()
    parser.feed(html)
    parser.close()
    return parser


def _figures(html: str) -> dict[str, str]:
    """Each ``data-figure`` name and the kind of markup embedded right after it."""
    found = {}
    for match in re.finditer(
        r'data-figure="([^"]+)">\s*(<svg|<img class="plot-img" alt="[^"]*" src="data:image/png)', html
    ):
        found[match.group(1)] = "svg" if match.group(2) == "<svg" else "png"
    return found


# -------------------------------------------------------------------------------------- tests ---- #


def test_save_writes_the_report_next_to_the_results(air_html: tuple[Path, str]) -> None:
    path, html = air_html
    assert {p.name for p in path.parent.iterdir()} >= {"report.html", "forecasts.csv", "metrics.csv", "summary.json"}
    assert html.startswith("<!DOCTYPE html>")


def test_write_report_creates_the_directory_and_returns_the_path(air: tsf.BacktestResult, tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "r.html"
    assert write_report(air, target) == target
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_html_parses_with_every_element_closed(air_html: tuple[Path, str]) -> None:
    parser = _parse(air_html[1])
    assert parser.problems == []
    assert parser.stack == []
    assert parser.title.startswith(TITLE)


@pytest.mark.parametrize("heading", SECTIONS)
def test_every_section_heading_is_present(air_html: tuple[Path, str], heading: str) -> None:
    headings = _parse(air_html[1]).headings
    assert any(heading in h for h in headings), headings


def test_sections_are_numbered_in_order(air_html: tuple[Path, str]) -> None:
    headings = _parse(air_html[1]).headings
    assert [h.split(maxsplit=1)[0] for h in headings] == [str(i) for i in range(1, len(headings) + 1)]


def test_every_figure_is_embedded_and_nothing_is_fetched(air_html: tuple[Path, str]) -> None:
    html = air_html[1]
    assert _figures(html) == {"timeline": "svg", "forecasts": "svg", "horizon": "svg", "by-fold": "svg"}
    assert html.count("<svg") == 4
    for needle in ('src="http', "src='http", 'href="http', "href='http", "url(http", "@import", "<link", "<script"):
        assert needle not in html.lower()


def test_the_verdict_names_the_best_model_and_the_audit(air: tsf.BacktestResult, air_html: tuple[Path, str]) -> None:
    html = air_html[1]
    best = air.summary().index[0]
    assert re.search(rf'<tr class="best">.*?{best}.*?</tr>', html, re.S)
    assert html.count('<tr class="best">') == 1
    assert "✓ passed" in html
    assert "Audit passed" in html
    for kind in air.audit.perturbations:  # type: ignore[union-attr]
        assert f"<b>{kind}</b>" in html


def test_settings_are_reported(air: tsf.BacktestResult, air_html: tuple[Path, str]) -> None:
    html = air_html[1]
    for text in [
        "WalkForward(n_splits=3, horizon=12, step=None, gap=0",
        "SeasonalNaive(horizon=12, season=12)",
        "monthly (MS)",
        "144 observations",
        "1949-01-01 → 1960-12-01",
        "every fold",
        "pandas",
        air.settings["versions"]["numpy"],
    ]:
        assert text in html


def test_leaderboard_shows_smape_scale_counts_and_ratio(air_html: tuple[Path, str]) -> None:
    html = air_html[1]
    assert "sMAPE (0–200)" in html
    assert "Series-folds forecast" in html
    assert "Left out" in html
    assert "Mean error over the 3 series-folds every one of the 2 models forecast" in html
    assert "MASE vs seasonal naive" in html
    assert "1.000×" in html  # seasonal naive against itself


def test_user_strings_are_escaped_in_the_page_and_in_figures(tmp_path: Path) -> None:
    base = tsf.load_dataset("air_passengers")
    df = pd.concat([base.assign(unique_id=EVIL), base.assign(unique_id="cost $a$ & co", y=base["y"] * 2)])
    res = tsf.backtest("seasonal_naive", df, tsf.WalkForward(2, 12), baselines=("naive",), source=EVIL)
    html = write_report(res, tmp_path / "r.html").read_text(encoding="utf-8")
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    # matplotlib's SVG writer escapes the series name it draws as a panel title
    svg = re.search(r'data-figure="forecasts">(.*?)</svg>', html, re.S)
    assert svg is not None
    assert "&lt;script&gt;" in svg.group(1)
    assert "cost $a$ &amp; co" in svg.group(1)  # a dollar sign is text, not mathtext
    assert _parse(html).problems == []


def test_audit_not_run_says_how_to_run_it(panel: tsf.BacktestResult) -> None:
    html = render_report(panel)
    assert panel.audit is None
    assert "Audit not run" in html
    assert "audit=True" in html
    assert "passed: no shuffling" in html  # the temporal check from the settings


def _with_audit(result: tsf.BacktestResult, status: str, rows: list[tuple]) -> tsf.BacktestResult:
    """``result`` with an audit of ``status`` whose extra rows ``(fold, check, max_abs_diff, identical)`` are added."""
    assert result.audit is not None
    extra = pd.DataFrame(
        [(fold, result.audit.folds["cutoff"].iloc[fold], check, diff, same) for fold, check, diff, same in rows],
        columns=result.audit.folds.columns,
    )
    table = pd.concat([result.audit.folds, extra], ignore_index=True)
    return dataclasses.replace(result, audit=dataclasses.replace(result.audit, status=status, folds=table))


def test_a_leak_is_shown_with_its_folds(air: tsf.BacktestResult) -> None:
    res = _with_audit(air, "leak", [(1, "constant", 3.5, False), (1, "control", 0.0, True)])
    html = render_report(res)
    assert "✗ leak" in html
    assert "the forecasts of fold(s) 1 changed when only their future changed" in html
    assert "3.500" in html
    assert "✓ passed" not in html


def test_an_audit_that_cannot_judge_says_so(air: tsf.BacktestResult) -> None:
    res = _with_audit(air, "not reproducible", [(0, "noise", 0.25, False), (0, "control", 0.25, False)])
    html = render_report(res)
    assert "Not reproducible — cannot audit" in html
    assert "did not reproduce the reported forecasts of fold(s) 0" in html
    assert "✗ leak" not in html


@pytest.mark.parametrize("members", [None, 3])
def test_training_section_appears_only_with_training_logs(air: tsf.BacktestResult, members: int | None) -> None:
    assert air.training.empty
    without = render_report(air)
    assert 'id="training"' not in without
    assert "SGD training" not in without

    html = render_report(dataclasses.replace(air, training=_training_log(members=members)))
    assert 'id="training"' in html
    assert _figures(html)["training"] == "svg"
    assert any("SGD training" in h for h in _parse(html).headings)
    assert "seasonal_naive: fold 1" in html  # the last fold is drawn
    assert ("all 3 ensemble members" in html) is (members is not None)
    assert "learning rate (log scale)" in html


def test_training_chart_pairs_each_members_curves_in_its_own_shade_named_in_the_legend() -> None:
    log = _training_log(folds=1, members=3)
    named = log.assign(family=log["member"].map(["drift", "drift", "es"].__getitem__), lookback=24 + 12 * log["member"])
    styles = figures.model_styles(["seasonal_naive"])
    svg = training_chart.training_curves(named, ["seasonal_naive"], styles)
    assert all(f"<!-- {name} -->" in svg for name in ("drift L24", "drift L36", "es L48"))
    for shade in ("#1f77b4", "#ff7f0e", "#2ca02c"):  # tab10: one per member, its training, validation, lr, legend
        assert len(re.findall(f"stroke: {shade}", svg)) == 4
    assert len(re.findall(r"stroke-dasharray", svg)) >= 4  # 3 validation curves and the legend's key
    plain = training_chart.training_curves(log, ["seasonal_naive"], styles)  # a log without family and lookback
    assert all(f"<!-- member {k} -->" in plain for k in range(3))


def test_panel_report_draws_every_series_hardest_first(panel: tsf.BacktestResult) -> None:
    html = render_report(panel)
    assert "All 4 series, hardest first" in html
    assert set(_figures(html)) == {"timeline", "forecasts", "horizon", "by-fold"}


def test_many_series_are_capped_to_the_hardest(tmp_path: Path) -> None:
    base = tsf.load_dataset("air_passengers")
    rng = np.random.default_rng(0)
    frames = [
        base.assign(unique_id=f"s{i}", y=base["y"] * (1 + i) + rng.normal(0, 5 * i + 1, len(base))) for i in range(9)
    ]
    res = tsf.backtest("seasonal_naive", pd.concat(frames), tsf.WalkForward(2, 12), baselines=())
    html = render_report(res)
    assert f"{MAX_PANELS} of 9 series" in html
    hardest = res.metrics.groupby("unique_id")["mase"].mean().sort_values(ascending=False).index[:MAX_PANELS]
    svg = re.search(r'data-figure="forecasts">(.*?)</svg>', html, re.S)
    assert svg is not None
    drawn = set(re.findall(r"<!-- (s\d) -->", svg.group(1)))
    assert drawn == set(hardest)


def test_integer_time_index_with_gap(tmp_path: Path) -> None:
    t = np.arange(100)
    df = pd.DataFrame({"unique_id": "ints", "ds": t, "y": np.sin(t / 3) + 0.1 * t})
    res = tsf.backtest("naive", df, tsf.WalkForward(3, 6, gap=2), baselines=("drift",))
    html = render_report(res)
    assert "gap (not used)" in html  # in the timeline's legend
    assert "integer time index" in html
    assert _parse(html).problems == []


def test_large_figures_fall_back_to_png(air: tsf.BacktestResult, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(figures, "_SVG_LIMIT", 0)
    html = render_report(air)
    assert set(_figures(html).values()) == {"png"}
    assert html.count("data:image/png;base64,") == 4


def test_report_package_does_not_import_torch() -> None:
    package = Path(figures.__file__).parent
    for source in package.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "torch" for n in names), f"{source.name} imports torch"
            assert not any(n.split(".")[0] == "pyplot" or n.endswith("pyplot") for n in names), source.name


def test_model_styles_are_stable_and_distinct() -> None:
    styles = figures.model_styles(["sgd", "ets", "naive", "seasonal_naive"])
    assert len({s.color for s in styles.values()}) == 4
    assert styles["naive"].reference
    assert not styles["sgd"].reference
    assert figures.model_styles(["sgd", "ets"])["ets"] == styles["ets"]


# ----------------------------------------------------------------------------------- browser ---- #


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def test_report_renders_in_headless_chromium(air_html: tuple[Path, str], tmp_path: Path) -> None:
    exe = _chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (CI is set) to render the report: install the `chromium` package.")
        pytest.skip("Chromium not found on PATH (apt-get install chromium); in CI this test fails instead.")
    url = air_html[0].resolve().as_uri()
    command = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run([*command, "--dump-dom", url], capture_output=True, text=True, timeout=60, check=False)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert f"<title>{TITLE}" in dom.stdout
    assert "Leaderboard" in dom.stdout
    assert dom.stdout.count("<svg") == 4

    png = tmp_path / "shot.png"
    shot = subprocess.run(
        [*command, "--enable-logging=stderr", "--v=0", f"--screenshot={png}", "--window-size=1280,2000", url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    console = [line for line in shot.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []

    from matplotlib.image import imread

    image = imread(png)[..., :3]
    assert image.shape[:2] == (2000, 1280)
    assert float(image.std()) > 0.05  # not blank
    assert len(np.unique((image.reshape(-1, 3) * 255).round().astype(int), axis=0)) > 50  # text and figures drawn
    assert image[20, 20].max() < 0.2  # the dark header: the inline CSS applied


def test_reports_render_concurrently(air: tsf.BacktestResult, panel: tsf.BacktestResult) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        pages = list(pool.map(render_report, [air, panel, air, panel]))
    for page, res in zip(pages, [air, panel, air, panel], strict=True):
        assert _parse(page).problems == []
        assert len(_figures(page)) == 4
        assert f"<td>{escape(res.settings['cv'])}" not in page  # the splitter is shown as code
        assert f"<code>{escape(res.settings['cv'])}</code>" in page


# ------------------------------------------------------------------------ prediction intervals ---- #


@pytest.fixture(scope="module")
def banded() -> tsf.BacktestResult:
    return tsf.backtest(
        "seasonal_naive",
        tsf.load_dataset("air_passengers"),
        tsf.WalkForward(3, 12),
        baselines=("naive",),
        level=(80, 95),
    )


def _section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}">')
    return html[start : html.index("</section>", start)]


def test_intervals_section_shows_coverage_against_nominal_per_model(banded: tsf.BacktestResult) -> None:
    html = render_report(banded)
    section = _section(html, "intervals")
    assert "Prediction intervals" in section
    assert 'data-figure="coverage"' in section
    assert "split-conformal" in section
    assert "inside that fold&#39;s training data" in section
    summary = banded.summary()
    for model in ("seasonal_naive", "naive"):
        row = re.search(rf"</span>{model}</td>(.*?)</tr>", section, re.S)
        assert row is not None
        cells = re.findall(r'<td class="num">([^<]*)</td>', row.group(1))
        assert len(cells) == 6  # coverage, width, MSIS at 80% and 95%
        assert cells[0] == f"{summary.loc[model, 'coverage_80']:.3f}"
        assert cells[3] == f"{summary.loc[model, 'coverage_95']:.3f}"
    forecasts = _section(html, "forecasts")
    assert "its 80% and 95% prediction intervals, the widest lightest" in forecasts
    assert "seasonal_naive 95% interval" in forecasts  # the legend of the shaded bands


def test_native_intervals_are_said_to_be_native(banded: tsf.BacktestResult) -> None:
    settings = {**banded.settings, "intervals": {"level": [80.0, 95.0], "method": "native"}}
    section = _section(render_report(dataclasses.replace(banded, settings=settings)), "intervals")
    assert "each model&#39;s own (native)" in section
    assert "split-conformal" not in section


def test_no_intervals_section_without_level(air_html: tuple[Path, str]) -> None:
    _, html = air_html
    assert 'id="intervals"' not in html
    assert "interval" not in _section(html, "forecasts")


def test_the_widest_band_is_the_lightest() -> None:
    shades = figures._band_shades((95.0, 80.0, 50.0))
    assert [level for level, _ in shades] == [50.0, 80.0, 95.0]
    alphas = [alpha for _, alpha in shades]
    assert alphas == sorted(alphas, reverse=True)
    assert all(0 < a < 1 for a in alphas)
