"""`invoke bench --quick` runs and writes every figure issue 7 asks for.

Targets are measured, never asserted: this only checks that the harness runs
end to end and that every section whose feature is in this checkout produced
a number rather than a "not available" entry.
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import harness as bench

ROOT = Path(__file__).resolve().parent.parent
INVOKE = Path(sys.executable).parent / "invoke"


def _features():
    """Which figures must be numbers, given what this checkout contains."""
    js = ROOT / "theme" / "static" / "js"
    private = (ROOT / "plugins" / "hearth_private").is_dir()
    envelope = (ROOT / "hearth" / "envelope.py").is_file()
    needs = {
        "build_ratio_vs_pelican": True,
        "build_ratio_vs_pelican_plus_staticrypt": True,
        "staticrypt_page_size_ratio": True,
        "kdf_floor_ms": True,
        "kdf_per_build": private and envelope,
        "first_unlock_ms": private and (js / "unlock.js").is_file(),
        "second_post_ms": private and (js / "unlock.js").is_file(),
        "render_ratio_100kb": envelope and (js / "envelope.js").is_file(),
        "render_ratio_1mb": envelope and (js / "envelope.js").is_file(),
        "page_size_ratio": private,
        "republish_one_post_files": (ROOT / "hearth" / "targets").is_dir(),
        "readers_size_ratio_30_vs_1": private
        and (ROOT / "hearth/readers.py").is_file(),
        "readers_rotation_ratio_vs_unchanged": private
        and (ROOT / "hearth/readers.py").is_file(),
    }
    for target in bench.TARGETS:
        for verb in ("publish_s", "withdraw_s"):
            needs[f"{verb}.{target}"] = (ROOT / "hearth" / "targets").is_dir()
        for verb in ("withdraw", "lock"):
            needs[f"badweek_{verb}_notice_ratio.{target}"] = (
                ROOT / "hearth" / "notice.py"
            ).is_file()
    for key in ("rollback_s.file", "rollback_command_s.file"):
        needs[key] = (ROOT / "hearth" / "rollback.py").is_file()
    return needs


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "results.json"
    proc = subprocess.run(
        [str(INVOKE), "bench", "--quick", "--out", str(out), "--scratch", str(tmp)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:] or proc.stdout[-3000:]
    return json.loads(out.read_text()), proc.stdout


@pytest.mark.browser
@pytest.mark.server
def test_quick_bench_writes_every_required_figure(quick_results):
    results, _ = quick_results
    assert results["machine"]["cpu_count"] >= 1
    assert results["posts"] == bench.QUICK_POSTS
    figures = results["figures"]
    missing = sorted(set(bench.REQUIRED_FIGURES) - set(figures))
    assert not missing, f"figures missing from results.json: {missing}"
    for key, unit in bench.REQUIRED_FIGURES.items():
        fig = figures[key]
        assert fig["unit"] == unit, key
        if fig["value"] is None:
            assert fig["not_available"], f"{key} has no value and no reason"
        else:
            assert isinstance(fig["value"], (int, float)), key
            assert math.isfinite(fig["value"]) and fig["value"] >= 0, key


@pytest.mark.browser
@pytest.mark.server
def test_quick_bench_measures_every_feature_in_this_checkout(quick_results):
    figures = quick_results[0]["figures"]
    unmeasured = {
        key: figures[key].get("not_available")
        for key, needed in _features().items()
        if needed and figures[key]["value"] is None
    }
    assert not unmeasured, f"features present but not measured: {unmeasured}"


@pytest.mark.browser
@pytest.mark.server
def test_quick_bench_derives_keys_only_when_the_cache_lacks_them(quick_results):
    figures = quick_results[0]["figures"]
    warm, cold = figures["kdf_per_build"], figures["kdf_per_cold_build"]
    if warm["value"] is None:
        pytest.skip(f"not measured here: {warm['not_available']}")
    # A build after a build derives nothing; without the cache of derived
    # keys, one derivation per audience.
    assert warm["value"] == 0
    assert cold["value"] == cold["audiences"] == len(bench.AUDIENCES)


def test_quick_bench_prints_the_table(quick_results):
    _, stdout = quick_results
    assert "Hearth benchmark" in stdout
    assert "build_ratio_vs_pelican" in stdout


def test_only_merges_the_named_sections_and_keeps_the_rest(tmp_path, monkeypatch):
    # `invoke bench --only other`: the build section runs first (the others
    # measure its site) but its figures are not recorded unless named, so a
    # later --only run on other code never replaces the build figures.
    def build_section(b):
        b.put("build_x", bench.figure([2.0], "s"))

    def other_section(b):
        b.put("other_y", bench.ratio(b.figures["build_x"], bench.figure([1.0], "s")))

    monkeypatch.setattr(
        bench,
        "SECTIONS",
        [("build", build_section, ["build_x"]), ("other", other_section, ["other_y"])],
    )
    out = tmp_path / "results.json"
    old = {"value": 9.0, "unit": "s", "median": 9.0}
    earlier = {"command": "earlier", "when": "2026-01-02T03:04:05"}
    earlier |= {"hearth_plugins": ["hearth_gone"], "machine": {"cpu_count": 64}}
    out.write_text(json.dumps({**earlier, "figures": {"build_x": old, "keep": old}}))

    def run(*only):
        options = bench.Options(only=only, out=out, scratch=tmp_path / "s", repeats=1)
        bench.run(options, log=lambda *a: None)
        return json.loads(out.read_text())["figures"]

    figures = run("other")
    assert figures["build_x"] == old and figures["keep"] == old
    # The header is the latest run's; the first run's date is kept beside it.
    header = json.loads(out.read_text())
    assert header["first_when"] == earlier["when"]
    assert header["when"] > earlier["when"]
    assert header["hearth_plugins"] == bench.hearth_plugins() != ["hearth_gone"]
    assert header["machine"]["cpu_count"] == os.cpu_count()
    assert header["command"].startswith("earlier; then ")
    assert figures["other_y"]["value"] == 2.0
    figures = run("build", "other")
    assert figures["build_x"]["value"] == 2.0 and figures["keep"] == old
    with pytest.raises(ValueError, match="No benchmark section named nothing"):
        run("nothing")


def test_quick_bench_splits_the_builds_cpu_time_from_the_kernels(quick_results):
    """The build's CPU time, and its user share alone (the kernel's share,
    deleting and writing the output folder, moves most between runs)."""
    figures = quick_results[0]["figures"]
    for variant in ("plain", "hearth"):
        cpu = figures[f"build_cpu_s_{variant}"]["median"]
        user = figures[f"build_user_s_{variant}"]["median"]
        assert 0 < user <= cpu * 1.01, (variant, user, cpu)
    user_ratio = figures["build_user_ratio_vs_pelican"]
    assert user_ratio["median"] == pytest.approx(
        figures["build_user_s_hearth"]["median"]
        / figures["build_user_s_plain"]["median"]
    )
