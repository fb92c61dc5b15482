"""All settings, declared once and validated at start.

``config/tension.yaml`` names the other files (localities, sources, narratives, rules). Loading
checks each file against its model, then the references between files (a rule naming a
locality, a narrative list naming a narrative). Environment variables with the ``TENSION_``
prefix override a few deployment values; nothing else in the code reads the environment.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from alerts.routing import AlertingConfig, check_alerting, load_alerting
from alerts.rules import RuleFile
from monitor.amplification import AmplificationSettings
from monitor.emerging.settings import EmergingSettings
from monitor.config_files import Duration, describe_errors, load_model
from monitor.errors import ConfigError
from monitor.localities import LocalityFile
from monitor.narratives import NarrativeLibrary
from sources.http import HttpPolicy
from sources.registry import AnySourceConfig

DEFAULT_CONFIG = Path("config/tension.yaml")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigFiles(Strict):
    """Paths relative to the main config file's folder."""

    localities: Path = Path("localities/cumberland.yaml")
    sources: Path = Path("sources.yaml")
    narratives: Path = Path("narratives.yaml")
    rules: Path = Path("rules.yaml")
    alerting: Path = Path("alerting.yaml")


class SchedulerSettings(Strict):
    # How often the pipeline (score, aggregate, alerts, dispatch, deliver) looks for work; it
    # also runs at once whenever a collector stores new posts.
    tick: Duration = dt.timedelta(seconds=15)
    retention_every: Duration = dt.timedelta(hours=1)
    # How many collector polls may run at once.
    max_workers: int = Field(default=4, ge=1, le=32)


class ScoringSettings(Strict):
    # Posts scored per transaction; larger batches encode faster, smaller ones commit sooner.
    batch_size: int = Field(default=512, ge=1, le=20_000)
    # CPU threads for the encoder.
    threads: int = Field(default=2, ge=1, le=64)
    # spaCy NER for unknown places: on texts that mention one of ours ("matched", fast),
    # every text ("all") or never ("off").
    ner: Literal["matched", "all", "off"] = "matched"
    # "onnx" (int8, exported once into <data_dir>/cache/onnx on first use; the shipped heads are
    # trained on its features) or "torch" (bf16 where the CPU has it; about half as fast).
    encoder: Literal["torch", "onnx"] = "onnx"
    every: Duration = dt.timedelta(seconds=15)


class LoggingSettings(Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["logfmt", "json"] = "logfmt"


class IndexWeights(Strict):
    """Relative weight of each component of the tension index (docs/tension-index.md)."""

    hate: float = Field(default=30, ge=0)
    narrative: float = Field(default=20, ge=0)
    mobilisation: float = Field(default=20, ge=0)
    offensive: float = Field(default=5, ge=0)
    tension: float = Field(default=15, ge=0)
    volume: float = Field(default=10, ge=0)

    @model_validator(mode="after")
    def _some_weight(self) -> IndexWeights:
        if sum(self.model_dump().values()) <= 0:
            raise ValueError("at least one index weight must be above 0")
        return self


class IndexSaturation(Strict):
    """The value at which a component counts in full: shares, mean tension, volume z-score."""

    hate: float = Field(default=0.2, gt=0, le=1)
    narrative: float = Field(default=0.2, gt=0, le=1)
    mobilisation: float = Field(default=0.1, gt=0, le=1)
    offensive: float = Field(default=0.4, gt=0, le=1)
    tension: float = Field(default=0.6, gt=0, le=1)
    volume: float = Field(default=6.0, gt=0)


class AggregationSettings(Strict):
    every: Duration = dt.timedelta(minutes=1)
    # A post counts for a locality only when it was resolved to it with this confidence.
    min_confidence: float = Field(default=0.5, ge=0, le=1)
    # Shares are divided by at least this many posts, so two posts cannot make a 100% share.
    min_posts: int = Field(default=20, ge=1)
    # A day with fewer posts than this is never a volume surge.
    volume_min_posts: int = Field(default=20, ge=1)
    baseline_weeks: int = Field(default=4, ge=1, le=12)
    ewma_alpha: float = Field(default=0.3, gt=0, le=1)
    # Posts scored up to this long before the last run are looked at again (late commits).
    rescan: Duration = dt.timedelta(minutes=10)
    weights: IndexWeights = IndexWeights()
    saturation: IndexSaturation = IndexSaturation()
    # Index at which levels 2, 3, 4 and 5 begin (1-2 green, 3 amber, 4-5 red).
    level_cuts: tuple[float, float, float, float] = (15, 30, 50, 70)

    @model_validator(mode="after")
    def _ascending(self) -> AggregationSettings:
        cuts = self.level_cuts
        if not all(a < b for a, b in zip((0, *cuts), cuts)) or cuts[-1] > 100:
            raise ValueError("level_cuts must rise strictly within 0-100, e.g. [15, 30, 50, 70]")
        return self


def _clock(value):
    """"07:00" as a time; YAML 1.1 reads an unquoted 07:00 as 420 (minutes), so accept that too."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return dt.time(value // 60, value % 60)
    return value


class BriefingEvent(Strict):
    """A known event the forward look should mention (a match, a march, a commemoration)."""

    date: dt.date
    place: str = Field(min_length=1)
    title: str = Field(min_length=1)


class BriefingSettings(Strict):
    """The weekly tension briefing (monitor.briefing) and the job that sends it."""

    # Write, archive and email the briefing for the last complete week on a schedule.
    enabled: bool = True
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    # Local time in `timezone`; quote it in YAML ("07:00").
    time: Annotated[dt.time, BeforeValidator(_clock)] = dt.time(7, 0)
    marking: str = Field(default="OFFICIAL-SENSITIVE", min_length=1, max_length=60)
    # Receiver names from the alerting file; each gets the PDF through the outbox.
    distribution: tuple[str, ...] = ()
    # Folder the scheduled job writes files to (default <data_dir>/briefings).
    out_dir: Path | None = None
    # The forward look lists configured events up to this far after the week.
    look_ahead: Duration = dt.timedelta(days=14)
    events: tuple[BriefingEvent, ...] = ()


class WebSettings(Strict):
    """The dashboard that `tension run` serves beside the scheduler (`tension serve` alone
    takes --host/--port instead). Put TLS in a reverse proxy in front of it."""

    enabled: bool = True
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8080, ge=1, le=65535)


class MainConfig(Strict):
    # Where the service keeps its SQLite database and generated key; relative paths are taken
    # from the directory the service is started in.
    data_dir: Path = Path("var")
    # Empty means SQLite at <data_dir>/tension.db.
    database_url: str | None = None
    timezone: str = "Europe/London"
    retention_days: int = Field(default=28, ge=1, le=3650)
    dashboard_url: str = "http://127.0.0.1:8080"
    files: ConfigFiles = ConfigFiles()
    http: HttpPolicy = HttpPolicy()
    scheduler: SchedulerSettings = SchedulerSettings()
    scoring: ScoringSettings = ScoringSettings()
    logging: LoggingSettings = LoggingSettings()
    emerging: EmergingSettings = EmergingSettings()
    amplification: AmplificationSettings = AmplificationSettings()
    aggregation: AggregationSettings = AggregationSettings()
    briefing: BriefingSettings = BriefingSettings()
    web: WebSettings = WebSettings()


class SourceFile(Strict):
    sources: tuple[AnySourceConfig, ...] = ()


def _receiver_urls_from_env() -> dict[str, SecretStr]:
    """Every TENSION_RECEIVER_* variable: apprise URLs that alerting.yaml names by `urls_from_env`."""
    return {k: SecretStr(v) for k, v in os.environ.items() if k.startswith("TENSION_RECEIVER_") and v.strip()}


class Environment(BaseSettings):
    """The only place environment variables are read."""

    model_config = SettingsConfigDict(env_prefix="TENSION_", extra="ignore")

    database_url: str | None = None
    data_dir: Path | None = None
    pseudonym_key: SecretStr | None = None
    # Signs the dashboard's session cookies (default: a key generated into <data_dir>/web.key).
    web_secret: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = None
    # Where the int8 ONNX encoder is exported on first use (default <data_dir>/cache/onnx); point
    # several data directories (or a test run) at one folder to export once.
    model_cache: Path | None = None
    # Receiver URLs are secrets: never printed, never in a config file that gets committed.
    # Private, so pydantic-settings does not also look for a TENSION_RECEIVER_URLS variable.
    _receiver_urls: dict[str, SecretStr] = PrivateAttr(default_factory=_receiver_urls_from_env)

    @property
    def receiver_urls(self) -> dict[str, SecretStr]:
        return self._receiver_urls


@dataclass(frozen=True)
class Settings:
    """Everything the service was configured with, validated and cross-checked."""

    config_path: Path
    main: MainConfig
    localities: LocalityFile
    sources: SourceFile
    narratives: NarrativeLibrary
    rules: RuleFile
    alerting: AlertingConfig
    environment: Environment

    @property
    def config_dir(self) -> Path:
        return self.config_path.parent

    @property
    def data_dir(self) -> Path:
        return self.environment.data_dir or self.main.data_dir

    @property
    def model_cache_dir(self) -> Path:
        return self.environment.model_cache or self.data_dir / "cache" / "onnx"

    @property
    def database_url(self) -> str:
        url = self.environment.database_url or self.main.database_url
        return url or f"sqlite:///{self.data_dir / 'tension.db'}"

    @property
    def log_level(self) -> str:
        return self.environment.log_level or self.main.logging.level

    def path_of(self, name: str) -> Path:
        return self.config_dir / getattr(self.main.files, name)


def _environment() -> Environment:
    try:
        return Environment()
    except ValidationError as exc:
        raise ConfigError("\n".join(describe_errors("environment", exc))) from None


def load_settings(config_path: Path = DEFAULT_CONFIG) -> Settings:
    """Load and validate every config file; raise one ConfigError listing all problems."""
    config_path = Path(config_path)
    main = load_model(MainConfig, config_path)
    base = config_path.parent
    errors: list[str] = []
    loaded = {}
    for name, model in (
        ("localities", LocalityFile),
        ("sources", SourceFile),
        ("narratives", NarrativeLibrary),
        ("rules", RuleFile),
    ):
        try:
            loaded[name] = load_model(model, base / getattr(main.files, name))
        except ConfigError as exc:
            errors.append(str(exc))
    try:
        loaded["alerting"] = load_alerting(base / main.files.alerting)
    except ConfigError as exc:
        errors.append(str(exc))
    if errors:
        raise ConfigError("\n".join(errors))
    settings = Settings(config_path=config_path, main=main, environment=_environment(), **loaded)
    problems = cross_check(settings)
    if problems:
        raise ConfigError("\n".join(problems))
    return settings


def cross_check(settings: Settings) -> list[str]:
    """References between files: each problem as `file: field: message (hint)`."""
    problems = []
    localities = {loc.id for loc in settings.localities.localities}
    narratives = {n.id for n in settings.narratives.narratives}
    rules_file = settings.path_of("rules")
    for i, rule in enumerate(settings.rules.rules):
        if rule.localities != "all":
            for j, loc in enumerate(rule.localities):
                if loc not in localities:
                    problems.append(
                        f"{rules_file}: rules[{i}].localities[{j}]: unknown locality {loc!r} "
                        f"(hint: use an id from {settings.path_of('localities')})"
                    )
        wanted = getattr(rule, "narratives", "all")
        if wanted != "all":
            for j, nid in enumerate(wanted):
                if nid not in narratives:
                    problems.append(
                        f"{rules_file}: rules[{i}].narratives[{j}]: unknown narrative {nid!r} "
                        f"(hint: use an id from {settings.path_of('narratives')})"
                    )
    sources_file = settings.path_of("sources")
    seen: set[str] = set()
    for i, source in enumerate(settings.sources.sources):
        if source.id in seen:
            problems.append(f"{sources_file}: sources[{i}].id: repeated source id {source.id!r}")
        seen.add(source.id)
        path = getattr(source, "path", None)
        if path is not None and not (settings.config_dir / path).is_file():
            problems.append(
                f"{sources_file}: sources[{i}].path: file not found: {settings.config_dir / path} "
                f"(hint: paths are relative to {settings.config_dir})"
            )
    receiver_urls = settings.environment.receiver_urls
    problems += check_alerting(settings.alerting, settings.path_of("alerting"), receiver_urls)
    receivers = [r.name for r in settings.alerting.receivers]
    for i, name in enumerate(settings.main.briefing.distribution):
        if name not in receivers:
            problems.append(f"{settings.config_path}: briefing.distribution[{i}]: unknown receiver {name!r} "
                            f"(hint: use a name from receivers in {settings.path_of('alerting')}: "
                            f"{', '.join(receivers) or 'none defined'})")
    return problems
