"""The legal regimes: every step's basis under each, the config's choice of regime, and the event log citing it."""

import pandas as pd
import pytest

from sim.config.schema import LAWS
from sim.law import BARNETS_LOV, REGIMES, SERVICELOVEN, STEPS, regime_of_year, step_of
from tests.conftest import SMALL, run


def test_the_config_offers_exactly_the_regimes_the_law_module_defines():
    assert LAWS == tuple(REGIMES)


@pytest.mark.parametrize("regime", REGIMES.values(), ids=list(REGIMES))
def test_every_step_has_a_basis_with_names_in_both_languages_or_none_at_all(regime):
    assert set(regime.steps) == set(STEPS)
    for basis in regime.steps.values():
        assert bool(basis.section) == bool(basis.da) == bool(basis.en)


def test_the_sections_of_the_two_acts_are_those_of_their_texts():
    cited = {s: (SERVICELOVEN.cite(s), BARNETS_LOV.cite(s)) for s in STEPS}
    assert cited["investigation"] == ("SEL § 50", "BL § 20")
    assert cited["preventive"] == ("SEL § 11", "BL § 30")
    assert cited["home_based"] == ("SEL § 52, stk. 3", "BL § 32")
    assert cited["placement_with_consent"] == ("SEL § 52, stk. 3, nr. 7", "BL § 46")
    assert cited["placement_without_consent"] == ("SEL § 58", "BL § 47")
    assert cited["aftercare"] == ("SEL § 76", "BL §§ 111-121")
    assert cited["screening"] == ("", "BL § 18")  # the Social Services Act had no screening step


def test_barnets_lov_is_in_force_from_2024_and_the_social_services_act_until_2023():
    assert regime_of_year(2023) is SERVICELOVEN and regime_of_year(2024) is BARNETS_LOV
    assert SERVICELOVEN.in_force(2023) and not SERVICELOVEN.in_force(2024) and BARNETS_LOV.in_force(2030)


def test_an_event_is_taken_under_the_step_of_its_type_or_of_the_measure_it_names():
    assert step_of("investigation_end", "completed") == "investigation"
    assert step_of("measure_start", "institution") == "placement_with_consent"
    assert step_of("decision", "home_based") == "home_based"
    assert step_of("decision", "none") is None
    assert step_of("measure_end", "escalation") is None
    assert step_of("report", "school") is None


@pytest.fixture(scope="module")
def logs() -> dict[str, pd.DataFrame]:
    """The event log of one small world under each regime."""
    return {law: run([*SMALL, "world.years=2", f"world.law={law}"]).events for law in LAWS}


@pytest.fixture(scope="module")
def bases(logs) -> dict[str, pd.DataFrame]:
    """Events with a legal basis under each regime: one row per (event, kind, basis)."""
    out = {}
    for law, events in logs.items():
        cited = events.assign(event=events["event"].astype(str), basis=events["basis"].astype("string"))
        out[law] = cited[["event", "kind", "basis"]].drop_duplicates()
    return out


def test_the_regimes_simulate_the_same_world_and_differ_only_in_the_sections_cited(logs):
    """What docs/configuration.md says of world.law: the rules simulated are those the two acts share."""
    sel, bl = (logs[law] for law in ("serviceloven", "barnets_lov"))
    pd.testing.assert_frame_equal(sel.drop(columns="basis"), bl.drop(columns="basis"))
    assert (sel["basis"].astype("string") != bl["basis"].astype("string")).any()


@pytest.mark.parametrize("law", LAWS)
def test_the_event_log_cites_each_steps_section_under_the_runs_regime(bases, law):
    regime = REGIMES[law]
    rows = bases[law]
    for event, kind, basis in rows.itertuples(index=False):
        expected = regime.basis_of(event, None if pd.isna(kind) else kind)
        assert (None if pd.isna(basis) else basis) == expected, (event, kind)
    investigations = rows.loc[rows["event"] == "investigation_start", "basis"].unique().tolist()
    assert investigations == [regime.cite("investigation")]
    assert rows.loc[rows["event"].isin(["birth", "report", "measure_end"]), "basis"].isna().all()
