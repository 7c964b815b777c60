"""Ratios, targets and the printed table, kept apart from the orchestration so they can be tested.

Targets are reported as PASS / FAIL / N/A and never change the exit status: a slow commit is
information for the team, not a broken build. A run with unexpected statuses is INVALID instead,
because a benchmark of errors measures nothing.
"""

from __future__ import annotations

from typing import Any

OURS_OVER_BARE_MIN = 0.40
OURS_OVER_RAWSQL_MIN = 0.5  # issue 11: POST and GET /matches/{id}, each against its reference
WITH_AUDIT_MIN = 0.9  # issue 11: ours with the audit append >= 0.9 x ours with it stubbed
MATCH_GROWTH_MAX = 1.5


def _ratio(
    num: dict[str, Any] | None, den: dict[str, Any] | None, key: str = "rps"
) -> float | None:
    """``num[key] / den[key]``, or None when either measurement is missing."""
    if num is None or den is None or not den.get(key):
        return None
    return round(float(num[key]) / float(den[key]), 3)


def _measured(parts: dict[str, Any], *keys: str) -> dict[str, Any] | None:
    """A measurement dict at ``parts[k1][k2]...``, or None when skipped or failed."""
    node: Any = parts
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node if isinstance(node, dict) and "rps" in node else None


def _verdict(ok: bool | None, *runs: dict[str, Any] | None) -> str:
    if any(r is not None and r.get("unexpected_status", 0) for r in runs):
        return "INVALID"
    if ok is None:
        return "N/A"
    return "PASS" if ok else "FAIL"


def ratios_and_targets(parts: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Compute the headline ratios and the targets from the per-part measurements."""
    bare = _measured(parts, "bare", "post")
    raw = _measured(parts, "rawsql", "post")
    ours = _measured(parts, "ours", "post")
    ratios: dict[str, Any] = {
        "ours_over_bare_rps": _ratio(ours, bare),
        "ours_over_rawsql_rps": _ratio(ours, raw),
        "rawsql_over_bare_rps": _ratio(raw, bare),
        "ours_over_ours_without_audit_rps": _ratio(ours, _measured(parts, "ours-noaudit", "post")),
        "ours_over_rawsql_get_match_rps": _ratio(
            _measured(parts, "reads", "ours"), _measured(parts, "reads", "rawsql")
        ),
    }
    match_runs: list[dict[str, Any] | None] = []
    worst: float | None = None
    for endpoint in ("get_match", "list_matches"):
        small = _measured(parts, "matches", "baseline", endpoint)
        large = _measured(parts, "matches", "full", endpoint)
        match_runs += [small, large]
        for stat in ("p50_ms", "p99_ms"):
            r = _ratio(large, small, stat)
            ratios[f"{endpoint}_{stat[:3]}_at_n_over_at_baseline"] = r
            if stat == "p50_ms" and r is not None:
                worst = r if worst is None else max(worst, r)
    ob = ratios["ours_over_bare_rps"]
    targets = {
        **_at_least(
            "ours_post_at_least_half_of_rawsql",
            ratios["ours_over_rawsql_rps"],
            OURS_OVER_RAWSQL_MIN,
            raw,
            ours,
        ),
        **_at_least(
            "ours_get_match_at_least_half_of_rawsql_read",
            ratios["ours_over_rawsql_get_match_rps"],
            OURS_OVER_RAWSQL_MIN,
            _measured(parts, "reads", "ours"),
            _measured(parts, "reads", "rawsql"),
        ),
        **_at_least(
            "ours_post_with_audit_at_least_0.9_of_stubbed",
            ratios["ours_over_ours_without_audit_rps"],
            WITH_AUDIT_MIN,
            ours,
            _measured(parts, "ours-noaudit", "post"),
        ),
        "ours_post_at_least_40pct_of_bare": {
            "value": ob,
            "limit": f">= {OURS_OVER_BARE_MIN}",
            "result": _verdict(None if ob is None else ob >= OURS_OVER_BARE_MIN, bare, ours),
        },
        "match_p50_at_n_at_most_1.5x_baseline": {
            "value": worst,
            "limit": f"<= {MATCH_GROWTH_MAX}",
            "result": _verdict(None if worst is None else worst <= MATCH_GROWTH_MAX, *match_runs),
        },
    }
    return ratios, targets


def _at_least(
    name: str, value: float | None, limit: float, *runs: dict[str, Any] | None
) -> dict[str, Any]:
    """One ``value >= limit`` target, INVALID when a run behind it saw unexpected statuses."""
    ok = None if value is None else value >= limit
    return {name: {"value": value, "limit": f">= {limit}", "result": _verdict(ok, *runs)}}


def _row(label: str, m: dict[str, Any] | None, note: str = "") -> str:
    if m is None:
        return f"{label:<34} {'-':>9} {'-':>8} {'-':>8} {'-':>8} {'-':>9}  {note}"
    return (
        f"{label:<34} {m['rps']:>9.1f} {m['p50_ms']:>8.2f} {m['p99_ms']:>8.2f}"
        f" {m['non_2xx']:>8d} {m['requests']:>9d}  {note}"
    )


def _why_missing(parts: dict[str, Any], *keys: str) -> str:
    node: Any = parts
    for key in keys:
        if not isinstance(node, dict):
            break
        if "error" in node:
            return f"error: {str(node['error']).splitlines()[0][:70]}"
        if "skipped" in node:
            return f"skipped: {str(node['skipped'])[:70]}"
        node = node.get(key)
    return "not run"


def table(results: dict[str, Any]) -> str:
    """The human-readable summary printed at the end of a run."""
    parts = results["parts"]
    base = results["config"]["baseline_signals"]
    n = results["config"]["signals"]
    lines = [
        f"{'measurement':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} "
        f"{'requests':>9}",
        "-" * 82,
    ]
    rows = [
        ("bare    POST /api/v1/signals", ("bare", "post")),
        ("rawsql  POST /api/v1/signals", ("rawsql", "post")),
        ("ours    POST /api/v1/signals", ("ours", "post")),
        ("ours    POST, audit append stubbed", ("ours-noaudit", "post")),
        ("rawsql  GET /matches/{id} (reads)", ("reads", "rawsql")),
        ("ours    GET /matches/{id} (reads)", ("reads", "ours")),
        (f"ours    GET /matches/{{id}} @{base}", ("matches", "baseline", "get_match")),
        (f"ours    GET /matches @{base}", ("matches", "baseline", "list_matches")),
        (f"ours    GET /matches/{{id}} @{n}", ("matches", "full", "get_match")),
        (f"ours    GET /matches @{n}", ("matches", "full", "list_matches")),
    ]
    for label, keys in rows:
        m = _measured(parts, *keys)
        lines.append(_row(label, m, "" if m else _why_missing(parts, *keys)))
    lines.append("")
    lines.append("ratios")
    for name, value in results["ratios"].items():
        lines.append(f"  {name:<44} {'-' if value is None else value}")
    lines.append("targets (reported, never fail the run)")
    for name, t in results["targets"].items():
        value = "-" if t["value"] is None else t["value"]
        lines.append(f"  {name:<44} {value!s:>7}  {t['limit']:<7} {t['result']}")
    return "\n".join(lines)
