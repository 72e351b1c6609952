"""The risk benchmark runs and reports both figures (speed itself is measured, not asserted)."""

from benchmarks.risk_bench import measure


def test_measure_reports_p50_and_p99() -> None:
    figures = measure(repeats=1, runs_per_repeat=50, progress=False)
    assert set(figures) == {"risk_check_p50_us", "risk_check_p99_us"}
    assert 0 < figures["risk_check_p50_us"] <= figures["risk_check_p99_us"]
