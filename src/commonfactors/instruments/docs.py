"""Reference pages for instruments, generated from their definition files.

``docs/instruments/<id>.md`` is written by ``commonfactors instruments docs --out
docs/instruments`` (``make docs``); a test fails when a page is missing or stale, so the
documentation can never drift from the rules the scorer applies.
"""

from __future__ import annotations

from pathlib import Path

from commonfactors.instruments.registry import Instrument, Registry
from commonfactors.instruments.schema import Definition

__all__ = ["index_page", "render_page", "stale_pages", "write_pages"]

_HEADER = (
    "<!-- Generated from src/commonfactors/instruments/definitions/{id}.yaml by `make docs`."
    " Do not edit. -->"
)


def _n(x: float) -> str:
    return f"{x:g}"


def _band_rows(d: Definition) -> list[str]:
    hi = d.score_range[1]
    rows = ["| band | from | to |", "|---|---|---|"]
    for b, nxt in zip(d.bands, [*d.bands[1:], None], strict=True):
        to = f"below {_n(nxt.min)}" if nxt else _n(hi)
        rows.append(f"| {b.label} | {_n(b.min)} | {to} |")
    return rows


def render_page(instrument: Instrument) -> str:
    """The Markdown reference page of one instrument."""
    d = instrument.definition
    text = instrument.text("en")
    lo, hi = d.score_range
    out = [_HEADER.format(id=d.id), "", f"# {d.short_name} — {d.name}", ""]
    if d.status == "practice":
        out += [
            "> **Unvalidated practice questions.** Written by the commonfactors contributors to "
            "track this factor until a validated instrument is loaded. No published norms, "
            "bands or cut-offs exist for them, and none are claimed.",
            "",
        ]
    out += [
        f"- **id:** `{d.id}` · **definition version:** {d.version} · **status:** {d.status}",
        f"- **measures:** {d.measures} ({d.assesses}) · **recall period:** {d.recall_period}",
        f"- **direction:** {d.direction.replace('_', ' ')}",
        f"- **citation:** {d.citation}",
        f"- **languages:** {', '.join(d.languages)}",
        "",
        "## Licence",
        "",
        f"- **{d.licence.name}** — rights holder: {d.licence.holder}",
        "- item text shipped with commonfactors: "
        + (
            "**yes**"
            if d.licence.text_shippable
            else "**no** — scoring only; load a licensed [local text pack](../text-packs.md)"
        ),
        f"- source: {d.licence.source}",
    ]
    if d.licence.copyright:
        out.append(f"- copyright line: {d.licence.copyright}")
    if d.licence.note:
        out.append(f"- note: {d.licence.note}")
    out += ["", "## Items", ""]
    if text is not None:
        out += [f"_{text.instructions}_", ""]
    out += ["| # | id | response set | reverse | LOINC | text |", "|---|---|---|---|---|---|"]
    for item in d.items:
        wording = text.items[item.id] if text else f"({item.label or 'text not shipped'})"
        out.append(
            f"| {item.number} | `{item.id}` | {item.response_set} | "
            f"{'yes' if item.reverse else ''} | {item.loinc or ''} | {wording} |"
        )
    out += ["", "Response sets:", ""]
    for rs in d.response_sets:
        labels = text.response_sets.get(rs.id) if text else None
        opts = [
            f"{_n(o.value)}"
            + (f" = {labels[k]}" if labels else "")
            + (f" ({o.loinc})" if o.loinc else "")
            for k, o in enumerate(rs.options)
        ]
        out.append(f"- `{rs.id}`: " + "; ".join(opts))
    out += [
        "",
        "## Scoring",
        "",
        f"- **kind:** {d.scoring.kind}"
        + (f" (× {_n(d.scoring.multiplier)})" if d.scoring.kind == "transformed" else "")
        + f", range {_n(lo)}–{_n(hi)}. Source: {d.scoring.source}",
        f"- **missing items:** at most {d.missing.max_missing}"
        + (", prorated" if d.missing.prorate else "")
        + (", rounded to the nearest whole number" if d.missing.rounding == "nearest" else "")
        + (
            f"; optional items (not prorated): {', '.join(d.missing.optional_items)}"
            if d.missing.optional_items
            else ""
        )
        + f". Source: {d.missing.source}",
    ]
    for s in d.subscales:
        out.append(f"- **subscale {s.id}** ({s.name}): {s.kind} of {', '.join(s.items)}")
    if d.bands:
        out += ["", "## Bands", "", *_band_rows(d), "", f"Source: {d.bands_source}"]
    if d.cutoffs:
        out += ["", "## Cut-offs", ""]
        for c in d.cutoffs:
            mark = " (**caseness**)" if c.caseness else ""
            out.append(
                f"- `{c.id}`{mark}: total {c.op} {_n(c.value)} — {c.description}. "
                f"Source: {c.source}"
            )
    if d.reliable_change:
        rc = d.reliable_change
        how = (
            "published"
            if rc.basis == "published"
            else f"derived: 1.96 × √2 × SD {_n(rc.sd or 0)} × √(1 − {_n(rc.reliability or 0)})"
        )
        out += [
            "",
            "## Reliable change",
            "",
            f"- {rc.value:.2f} points ({how}). Source: {rc.source}",
        ]
    if d.reliability or d.norms:
        out += ["", "## Reliability and norms", ""]
        if d.reliability:
            r = d.reliability
            parts = [
                f"α = {r.alpha}" if r.alpha else "",
                f"test–retest r = {r.test_retest}" if r.test_retest else "",
            ]
            out.append(f"- reliability: {', '.join(p for p in parts if p)}. Source: {r.source}")
        for norm in d.norms:
            n = f", n = {norm.n}" if norm.n else ""
            out.append(
                f"- {norm.population}: {norm.description}: mean {_n(norm.mean)}, "
                f"SD {_n(norm.sd)}{n}. Source: {norm.source}"
            )
    if d.risk:
        out += ["", "## Risk items", ""]
        out += [
            f"- `{r.item}` at or above {_n(r.at_least)}: {r.reason}. Source: {r.source}"
            for r in d.risk
        ]
    if d.loinc.panel or d.loinc.total:
        out += [
            "",
            "## LOINC",
            "",
            f"- panel: {d.loinc.panel or '—'} · total: {d.loinc.total or '—'}",
        ]
    if d.notes:
        out += ["", "## Notes", "", *[f"- {note}" for note in d.notes]]
    if text is not None:
        out += ["", f"Item text: {text.notice}"]
    return "\n".join(out) + "\n"


def index_page(registry: Registry) -> str:
    out = [
        "<!-- Generated from the definition files by `make docs`. Do not edit. -->",
        "",
        "# Instrument reference pages",
        "",
        "| id | instrument | measures | status | text shipped |",
        "|---|---|---|---|---|",
    ]
    for inst in registry:
        d = inst.definition
        out.append(
            f"| [`{d.id}`]({d.id}.md) | {d.short_name} — {d.name} | {d.measures} | {d.status} | "
            f"{'yes' if d.licence.text_shippable else 'no'} |"
        )
    return "\n".join(out) + "\n"


def _expected(registry: Registry) -> dict[str, str]:
    pages = {f"{inst.id}.md": render_page(inst) for inst in registry}
    pages["README.md"] = index_page(registry)
    return pages


def write_pages(registry: Registry, out_dir: Path) -> list[Path]:
    """Write every page (and remove pages of instruments that no longer exist)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    expected = _expected(registry)
    for old in out_dir.glob("*.md"):
        if old.name not in expected:
            old.unlink()
    written = []
    for name, content in expected.items():
        path = out_dir / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def stale_pages(registry: Registry, out_dir: Path) -> list[str]:
    """Names of pages that are missing, stale or left over."""
    expected = _expected(registry)
    problems = []
    for name, content in expected.items():
        path = out_dir / name
        if not path.exists():
            problems.append(f"{name}: missing")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"{name}: stale")
    problems += [
        f"{p.name}: no such instrument" for p in out_dir.glob("*.md") if p.name not in expected
    ]
    return problems
