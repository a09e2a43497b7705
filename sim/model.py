"""Run one simulated municipality: the clock advances the vectorised world a month at a time and hands the
month's reports to the agency's SimPy processes.

>>> from sim.registry import compose_config
>>> result = simulate(compose_config(["world=small", "world.years=1", "world.burn_in_years=0"]))
>>> int(result.reports.shape[0]) > 0
True
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import simpy

from sim.agency.agency import Agency
from sim.agency.report_table import report_table
from sim.calendar import DAYS_PER_MONTH
from sim.config.schema import Config, OutputConfig
from sim.eventlog import SCHEMA, EventLog, ParquetSink
from sim.hooks import Context, Hooks, Policy
from sim.parallel import CAN_FORK, Forked
from sim.policies import POLICIES
from sim.rng import Streams
from sim.runfolder import write_table
from sim.world.panel import SCHEMA as PANEL_SCHEMA
from sim.world.world import World, population_tables


@dataclass
class SimulationResult:
    """What a run produced. Tables held in memory are small; the event log and panel are in memory only
    when ``keep=True`` (tests, notebooks), otherwise on disk in ``out_dir``."""

    reports: pd.DataFrame
    agency_monthly: pd.DataFrame
    event_counts: dict[str, int]
    first_year: int
    start_year: int
    months: int
    out_dir: Path | None = None
    events: pd.DataFrame | None = None
    panel: pd.DataFrame | None = None
    population: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    policy_results: dict[str, pd.DataFrame] = field(default_factory=dict)  # tables the policies report
    policy_costs: dict[str, float] = field(default_factory=dict)  # the policies' running costs, DKK a year
    faring_badly_bits: np.ndarray | None = None  # (months, slots/8) packed: faring badly at each month start


class _MemorySink(ParquetSink):
    """A sink that also keeps what it writes, when ``keep`` (for ``keep=True``, and for a run whose copies may start
    writing later): a run that only writes its files does not hold its whole event log in memory as well."""

    def __init__(self, path: Path | None, schema: pa.Schema, compression: str, keep: bool = True) -> None:
        super().__init__(path, schema, compression)
        self.keep = keep
        self.tables: list[pa.Table] = []

    def write(self, table: pa.Table) -> None:
        if self.keep:
            self.tables.append(table)
        super().write(table)

    def open(self, path: Path) -> None:
        """Start writing to ``path``: everything kept so far first, in the chunks it came in."""
        self.path, self.rows = Path(path), 0
        for table in self.tables:
            ParquetSink.write(self, table)

    def frame(self) -> pd.DataFrame:
        return pa.concat_tables(self.tables).to_pandas() if self.tables else self.schema.empty_table().to_pandas()


@contextmanager
def _fewer_gc_passes(threshold: int = 200_000) -> Iterator[None]:
    """Run with rarer cyclic garbage collection. A simulation holds millions of small objects (buffered
    events, SimPy events), and the default thresholds make the collector walk them all again and again:
    measured on the denmark preset, 38 s -> 27 s for two simulated years, same peak memory."""
    old = gc.get_threshold()
    gc.set_threshold(threshold, old[1], max(old[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*old)


def active_policies(cfg: Config) -> list[Policy]:
    """The policies of ``cfg.policy`` (typed configs by name), in name order."""
    return [POLICIES[name](settings) for name, settings in sorted(cfg.policy.items())]


def _start_policies(month: int, world: World, agency: Agency, log: EventLog, t: float) -> None:
    """Policies whose start month this is: change the world's parameters and switch their hooks on."""
    for policy in world.hooks.policies:
        if not policy.active and policy.start_month(world.first_year, world.cfg.start_year) == month:
            cfg = policy.adjust(world.cfg)
            world.reconfigure(cfg)
            agency.reconfigure(cfg)
            policy.active = True
            log.add(t, "policy", -1, -1, kind=f"{policy.name}:start", value=float(month))  # not about a child


def _clock(env: simpy.Environment, world: World, agency: Agency, log: EventLog, monthly: list[dict]):
    for month in range(world.months):
        if month % 12 == 0:
            log.flush()  # one row group per simulated year keeps memory flat
        if month:
            _start_policies(month, world, agency, log, env.now)
        batch, left = world.step(month)
        agency.on_leave(left)
        agency.receive(month, batch)
        monthly.append(
            {"month": month, "year": world.year(month), "time": env.now, **world.snapshot(), **agency.snapshot()}
        )
        yield env.timeout(DAYS_PER_MONTH)


@dataclass
class _Run:
    """A world being simulated: everything a run holds between its first month and its result."""

    cfg: Config
    policies: list[Policy]
    streams: Streams
    event_sink: _MemorySink
    panel_sink: _MemorySink
    log: EventLog
    world: World
    agency: Agency
    env: simpy.Environment
    monthly: list[dict]

    def use(self, cfg: Config, policies: list[Policy]) -> None:
        """Run on under ``cfg``'s policies (none of which has started yet) from here."""
        self.cfg, self.policies = cfg, policies
        hooks = Hooks(policies)
        self.world.hooks = self.agency.hooks = hooks
        hooks.attach(Context(env=self.env, world=self.world, agency=self.agency, streams=self.streams, log=self.log))

    def write_to(self, out_dir: Path, out: OutputConfig) -> None:
        """Write the event log and panel to ``out_dir`` from here on, starting with what the run has logged so far
        (row group by row group, as if it had written there from the start)."""
        for sink, name, on in (
            (self.event_sink, "events.parquet", out.events),
            (self.panel_sink, "panel.parquet", out.panel),
        ):
            if on:
                sink.open(Path(out_dir) / name)

    def run(self, until_month: int) -> None:
        with _fewer_gc_passes():
            self.env.run(until=until_month * DAYS_PER_MONTH)


def _start(cfg: Config, out_dir: Path | None, keep: bool = True) -> _Run:
    """Build the world, the agency and the clock of ``cfg`` (policies starting in month 0 adjust the world);
    ``keep``: hold the event log and panel in memory too."""
    out = cfg.output

    def path(name: str, on: bool) -> Path | None:
        return Path(out_dir) / name if (out_dir is not None and on) else None

    streams = Streams(cfg.seed)
    event_sink = _MemorySink(path("events.parquet", out.events), SCHEMA, out.compression, keep)
    panel_sink = _MemorySink(path("panel.parquet", out.panel), PANEL_SCHEMA, out.compression, keep)
    first_year = cfg.world.start_year - cfg.world.burn_in_years
    log = EventLog(event_sink, first_year, cfg.world.law)
    policies = active_policies(cfg)
    world_cfg = cfg.world
    for policy in policies:
        if policy.start_month(first_year, cfg.world.start_year) == 0:
            world_cfg = policy.adjust(world_cfg)
            policy.active = True
    world = World(world_cfg, streams, log, panel_sink)
    env = simpy.Environment()
    agency = Agency(env, world, world_cfg, streams, log)
    run = _Run(cfg, [], streams, event_sink, panel_sink, log, world, agency, env, [])
    run.use(cfg, policies)
    env.process(_clock(env, world, agency, log, run.monthly))
    return run


def _finish(run: _Run, out_dir: Path | None, keep: bool) -> SimulationResult:
    """Close the run's logs and gather its result (writing its tables to ``out_dir``)."""
    cfg, world, agency, log = run.cfg, run.world, run.agency, run.log
    out = cfg.output
    world.finish()
    log.close()
    run.panel_sink.close()
    reports = report_table(world, agency)
    agency_monthly = pd.DataFrame(run.monthly).astype({"month": np.int32, "year": np.int16})
    result = SimulationResult(
        reports=reports,
        agency_monthly=agency_monthly,
        event_counts=dict(log.counts),
        first_year=world.first_year,
        start_year=cfg.world.start_year,
        months=world.months,
        out_dir=Path(out_dir) if out_dir is not None else None,
    )
    result.faring_badly_bits = world.faring_badly_bits
    for policy in run.policies:
        result.policy_results.update(policy.results())
        result.policy_costs.update(policy.yearly_costs())
    tables = population_tables(world) if (out.population or keep) else {}
    if out_dir is not None:
        for name, p in (("events", run.event_sink.path), ("panel", run.panel_sink.path)):
            if p is not None:
                result.files[name] = p
        files = {"agency_monthly": arrow_table(agency_monthly)}
        files.update(
            {name: arrow_table(df) for name, df in result.policy_results.items() if isinstance(df, pd.DataFrame)}
        )
        if out.reports:
            files["reports"] = arrow_table(reports)
        if out.population:
            files.update(tables)
        for name, table in files.items():
            result.files[name] = write_table(Path(out_dir) / f"{name}.parquet", table, out.compression)
    if keep:
        result.events = run.event_sink.frame()
        result.panel = run.panel_sink.frame()
        result.population = {k: v.to_pandas() for k, v in tables.items()}
    return result


def simulate(cfg: Config, out_dir: Path | None = None, *, keep: bool | None = None) -> SimulationResult:
    """Simulate ``cfg.world`` with seed ``cfg.seed``.

    With ``out_dir`` the event log, panel and population tables are written there as Parquet (each file
    appears only when complete). ``keep`` (default: when there is no ``out_dir``) also returns them as
    DataFrames.
    """
    keep = out_dir is None if keep is None else keep
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    run = _start(cfg, out_dir, keep)
    run.run(run.world.months)
    return _finish(run, out_dir, keep)


def shared_months(cfgs: list[Config]) -> int:
    """How many first months ``cfgs`` simulate identically: the month the first of their policies starts (every
    world has the same length), if they differ only in their policies; 0 if they differ in anything else."""
    first = replace(cfgs[0], policy={})
    if any(replace(c, policy={}) != first for c in cfgs[1:]):
        return 0
    first_year = first.world.start_year - first.world.burn_in_years
    months = 12 * (first.world.burn_in_years + first.world.years)
    starts = (p.start_month(first_year, first.world.start_year) for c in cfgs for p in active_policies(c))
    return min([months, *starts])


def simulate_variants(
    cfgs: list[Config],
    out_dirs: list[Path | None] | None = None,
    *,
    reduce: list[Callable[[SimulationResult], Any]] | None = None,
    concurrent: bool = True,
) -> list[Any]:
    """``[simulate(c, d, keep=True) for c, d in zip(cfgs, out_dirs)]``, every table and file the same to the last bit
    (tested), in less time when the worlds differ only in policies that start after month 0 (twin worlds, a policy
    adopted in different years, the scenarios of a comparison): the months before the first policy starts are
    simulated once, and each world runs on from there in a forked copy of this process (the last one here).

    ``reduce`` (one function per world) turns each result into what the caller keeps, in the process that simulated
    it, so that only that comes back. ``concurrent`` runs the copies side by side; without it one at a time (inside a
    process pool, whose workers already fill the cores). Without ``os.fork`` (Windows), or with nothing shared,
    each world is simulated from the start, one after the other."""
    out_dirs = out_dirs or [None] * len(cfgs)
    reduce = reduce or [_same] * len(cfgs)
    shared = shared_months(cfgs) if CAN_FORK and len(cfgs) > 1 else 0
    if shared == 0:
        return [r(simulate(c, d, keep=True)) for c, d, r in zip(cfgs, out_dirs, reduce, strict=True)]
    run = _start(replace(cfgs[0], policy={}), None)
    run.run(shared)

    def finish(i: int) -> Callable[[], Any]:
        def go() -> Any:
            if out_dirs[i] is not None:
                Path(out_dirs[i]).mkdir(parents=True, exist_ok=True)
                run.write_to(out_dirs[i], cfgs[i].output)
            run.use(cfgs[i], active_policies(cfgs[i]))
            run.run(run.world.months)
            return reduce[i](_finish(run, out_dirs[i], keep=True))

        return go

    copies: list[Forked] = []
    try:
        results = []
        for i in range(len(cfgs) - 1):
            copies.append(Forked(finish(i)))
            if not concurrent:
                results.append(copies[-1].result())
        results = results if not concurrent else [c.result() for c in copies]
        return [*results, finish(len(cfgs) - 1)()]
    except BaseException:
        for c in copies:
            c.kill()
        raise


def _same(result: SimulationResult) -> SimulationResult:
    return result


class Paused:
    """A world simulated up to the month its policy variants start (its burn-in, by default), kept in this process
    so that any number of variants, arriving at any time, go on from it, each in a forked copy: how a probabilistic
    sensitivity analysis simulates the burn-in its draws share once per process instead of once per draw. Every
    variant's tables are those of :func:`simulate` (the same guarantee as :func:`simulate_variants`)."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = replace(cfg, policy={})
        self.months = 12 * cfg.world.burn_in_years
        self.run = _start(self.cfg, None)
        self.run.run(self.months)

    def go_on(self, cfg: Config, reduce: Callable[[SimulationResult], Any] = _same) -> Any:
        """``reduce(simulate(cfg, keep=True))``, from the paused month on, in a forked copy. ``cfg`` must differ
        from the paused world's only in policies that start no earlier than that month."""
        if not CAN_FORK or shared_months([self.cfg, cfg]) < self.months:
            return reduce(simulate(cfg, None, keep=True))

        def go() -> Any:
            self.run.use(cfg, active_policies(cfg))
            self.run.run(self.run.world.months)
            return reduce(_finish(self.run, None, keep=True))

        copy = Forked(go)
        try:
            return copy.result()
        except BaseException:
            copy.kill()
            raise


def arrow_table(df: pd.DataFrame) -> pa.Table:
    """A DataFrame as an Arrow table with the same conventions as the other tables: ``string`` (not
    ``large_string``) text, categories as dictionaries, no pandas metadata."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    fields = [pa.field(f.name, pa.string()) if f.type == pa.large_string() else f for f in table.schema]
    return table.cast(pa.schema(fields)).replace_schema_metadata(None)
