"""Every number a policy is set with says where it comes from: an evidence grade, a plausible range and a basis,
declared in its schema field, refused when missing, and shown on the policy's page exactly as the code has it."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.config.evidence import Evidence, assumed, published, setting
from sim.config.fields import choice, share
from sim.hooks import Policy, PolicyConfig
from sim.policies import POLICIES
from sim.policies.base import evidence_of, register
from sim.policies.pages import PAGES, render

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_every_number_of_every_policy_has_a_grade_a_range_holding_its_default_and_a_basis(name):
    graded = evidence_of(POLICIES[name])
    defaults = POLICIES[name].Config()
    assert graded, f"{name} has no numeric settings"
    for key, evidence in graded.items():
        assert isinstance(evidence, Evidence), f"policy.{name}.{key} has no evidence"
        assert evidence.contains(getattr(defaults, key)), f"policy.{name}.{key}"
        assert evidence.basis.strip()


def test_a_policy_with_an_ungraded_number_is_refused_at_registration():
    @dataclass
    class Ungraded(PolicyConfig):
        strength: float = share(0.5, "how strong")
        mode: str = choice("a", ("a", "b"), "a switch needs no grade")

    class Unsourced(Policy):
        name = "unsourced"
        Config = Ungraded

    with pytest.raises(TypeError, match=r"policy 'unsourced': strength has no evidence grade"):
        register(Unsourced)
    assert "unsourced" not in POLICIES


def test_a_default_outside_its_plausible_range_is_refused_where_the_field_is_declared():
    with pytest.raises(ValueError, match=r"default 0.9 lies outside its evidence range \[0.1, 0.5\]"):
        share(0.9, "too strong", assumed(0.1, 0.5, "a guess"))


def test_a_range_outside_what_the_field_allows_is_refused():
    with pytest.raises(ValueError, match=r"evidence range \[0.5, 1.5\] is not a share in \[0, 1\]"):
        share(0.6, "a share", assumed(0.5, 1.5, "a guess"))


def test_a_published_figure_must_name_its_source():
    with pytest.raises(ValueError, match="a published figure names its source"):
        published(1.0, 2.0, "once or twice a month")


def test_only_settings_are_left_out_of_uncertainty_analyses():
    assert assumed(0.0, 1.0, "a guess").uncertain
    assert published(1.0, 2.0, "a figure", "KK-2012").uncertain
    assert not setting(0.0, 1.0, "a choice").uncertain


def test_every_source_an_evidence_cites_has_an_entry_in_the_sources_page():
    lines = (ROOT / "docs" / "sources.md").read_text().splitlines()
    entries = {line.removeprefix("### ").strip() for line in lines if line.startswith("### ")}
    cited = {s for policy in POLICIES.values() for e in evidence_of(policy).values() if e for s in e.sources}
    assert cited
    assert cited <= entries, f"not in docs/sources.md: {sorted(cited - entries)}"


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_the_policy_page_shows_the_schema_s_grades_and_ranges(name):
    page = (PAGES / f"{name}.md").read_text()
    assert render(page, POLICIES[name]) == page, f"docs/policies/{name}.md is out of date: python -m sim.policies.pages"


def test_a_page_row_carries_the_grade_the_range_and_a_link_to_the_source():
    page = (PAGES / "daycare_social_workers.md").read_text()
    assert (
        "| `policy.daycare_social_workers.take_on_share` | 0.68 | inquiries the social worker takes on | published | "
        "0.64 to 0.72 | 226 of 334 (binomial 90% interval) ([KK-2012](../sources.md#kk-2012)) |"
    ) in page
