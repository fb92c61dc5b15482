"""Who hears about which alert: receivers, the routing tree and inhibition, from ``config/alerting.yaml``.

The shape follows Alertmanager because its semantics are well understood and documented: a
routing tree whose children inherit their parent's receiver and timings, ``continue`` to fan an
alert out to several receivers, and inhibit rules so an area-wide alert quietens the locality
alerts it explains. Receiver URLs are secrets (they carry webhook tokens and mail passwords), so
they are ``SecretStr`` and normally come from ``TENSION_RECEIVER_*`` environment variables read by
``monitor.settings.Environment``; the config file only names the variable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, model_validator

from monitor.config_files import Duration, load_model, require_unique
from monitor.localities import ID_PATTERN

RECEIVER_ENV = re.compile(r"^TENSION_RECEIVER_(?!URLS$)[A-Z0-9_]+$")
_LABEL = r"[A-Za-z_][A-Za-z0-9_]*"
_MATCHER = re.compile(rf"^\s*({_LABEL})\s*(=~|!~|!=|=)\s*(.*?)\s*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Matcher(Strict):
    """One label condition, as in Alertmanager: ``=``, ``!=``, ``=~`` or ``!~`` (regex, anchored).

    A missing label counts as the empty string, so ``site!=""`` means "has a site".
    """

    label: str = Field(pattern=rf"^{_LABEL}$")
    op: Literal["=", "!=", "=~", "!~"] = "="
    value: str

    @model_validator(mode="after")
    def _regex_compiles(self) -> Matcher:
        if self.op in ("=~", "!~"):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"{self.label}{self.op}{self.value!r}: bad regular expression: {exc}") from None
        return self

    def matches(self, labels: Mapping[str, Any]) -> bool:
        actual = str(labels.get(self.label, "") or "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = re.fullmatch(self.value, actual) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        return f'{self.label}{self.op}"{self.value}"'


def parse_matcher(value: Any) -> Any:
    """Accept ``locality=workington``, ``severity=~"high|medium"`` or a {label, op, value} mapping."""
    if not isinstance(value, str):
        return value
    found = _MATCHER.match(value)
    if not found:
        raise ValueError(f"{value!r} is not a matcher such as locality=workington or severity=~\"high|medium\"")
    label, op, raw = found.groups()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        raw = raw[1:-1]
    return {"label": label, "op": op, "value": raw}


MatcherField = Annotated[Matcher, BeforeValidator(parse_matcher)]


def matches_all(matchers: tuple[Matcher, ...], labels: Mapping[str, Any]) -> bool:
    return all(m.matches(labels) for m in matchers)


class Receiver(Strict):
    name: str = Field(pattern=ID_PATTERN)
    # Apprise URLs written into the file (fine for loopback tests; use urls_from_env in production).
    urls: tuple[SecretStr, ...] = ()
    # A TENSION_RECEIVER_* environment variable holding one or more apprise URLs, separated by
    # spaces or new lines (commas belong to URLs: mailto://...?to=a@x,b@y).
    urls_from_env: str | None = None
    send_resolved: bool = True
    body_format: Literal["text", "markdown"] = "text"

    @model_validator(mode="after")
    def _env_name(self) -> Receiver:
        if self.urls_from_env is not None and not RECEIVER_ENV.match(self.urls_from_env):
            raise ValueError(
                f"urls_from_env {self.urls_from_env!r} must be an upper-case name starting "
                "TENSION_RECEIVER_, e.g. TENSION_RECEIVER_COHESION_OFFICERS"
            )
        return self


class Route(Strict):
    """A node of the routing tree; unset fields are inherited from the parent."""

    # Names the route in group keys; without one the position (root.0.1) is used, which changes
    # when routes are reordered (the groups then start afresh, waiting group_wait).
    name: str | None = Field(default=None, pattern=ID_PATTERN)
    receiver: str | None = None
    matchers: tuple[MatcherField, ...] = ()
    # Labels whose values split alerts into separate notifications; ["..."] means all labels.
    group_by: tuple[str, ...] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    continue_: bool = Field(default=False, alias="continue")
    routes: tuple[Route, ...] = ()


class InhibitRule(Strict):
    """While a firing alert matches ``source_matchers``, alerts matching ``target_matchers`` with
    the same values of the ``equal`` labels are muted (an alert never inhibits itself)."""

    source_matchers: tuple[MatcherField, ...] = Field(min_length=1)
    target_matchers: tuple[MatcherField, ...] = Field(min_length=1)
    equal: tuple[str, ...] = ()


class DeliverySettings(Strict):
    every: Duration = dt.timedelta(seconds=15)
    batch_size: int = Field(default=50, ge=1, le=1000)
    max_attempts: int = Field(default=20, ge=1, le=1000)
    backoff_base: Duration = dt.timedelta(seconds=30)
    backoff_max: Duration = dt.timedelta(hours=1)
    # A claimed message is reserved this long for its sender; if that worker dies mid-send the
    # message becomes due again afterwards (the receiver can dedupe on the reference).
    claim_lease: Duration = dt.timedelta(minutes=5)
    # Upper bound for one apprise call (all URLs of one receiver).
    timeout: Duration = dt.timedelta(seconds=60)


class AlertingConfig(Strict):
    dispatch_every: Duration = dt.timedelta(seconds=15)
    # How far back alert evaluation replays missed hours after downtime or a fast replay
    # (alerts.catch_up); 0 turns catch-up off.
    catch_up: Duration = dt.timedelta(days=7)
    delivery: DeliverySettings = DeliverySettings()
    receivers: tuple[Receiver, ...] = ()
    # None: alerts are recorded and shown on the dashboard, but nobody is notified.
    route: Route | None = None
    inhibit_rules: tuple[InhibitRule, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> AlertingConfig:
        require_unique("receiver", [r.name for r in self.receivers])
        if self.route is not None:
            if self.route.receiver is None:
                raise ValueError("route.receiver is required on the root route (the default receiver)")
            if self.route.matchers:
                raise ValueError("the root route matches every alert; put matchers on its child routes")
        return self


def load_alerting(path: Path) -> AlertingConfig:
    """The alerting file is optional: without it alerts are recorded but nobody is notified."""
    if not path.exists():
        return AlertingConfig()
    return load_model(AlertingConfig, path)


# -- the resolved tree ------------------------------------------------------------------------

ROOT_DEFAULTS = {
    "group_by": (),
    "group_wait": dt.timedelta(seconds=30),
    "group_interval": dt.timedelta(minutes=5),
    "repeat_interval": dt.timedelta(hours=24),
}


@dataclass(frozen=True)
class ResolvedRoute:
    """A route with everything inherited filled in, so dispatch never walks parents."""

    id: str
    receiver: str
    matchers: tuple[Matcher, ...]
    group_by: tuple[str, ...]
    group_wait: dt.timedelta
    group_interval: dt.timedelta
    repeat_interval: dt.timedelta
    continue_: bool
    children: tuple[ResolvedRoute, ...]

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def resolve(route: Route, parent: ResolvedRoute | None = None, path: str = "root") -> ResolvedRoute:
    def pick(name: str):
        own = getattr(route, name)
        if own is not None:
            return own
        return getattr(parent, name) if parent else ROOT_DEFAULTS[name]

    node = ResolvedRoute(
        id=route.name or path,
        receiver=route.receiver or (parent.receiver if parent else ""),
        matchers=route.matchers,
        group_by=pick("group_by"),
        group_wait=pick("group_wait"),
        group_interval=pick("group_interval"),
        repeat_interval=pick("repeat_interval"),
        continue_=route.continue_,
        children=(),
    )
    children = tuple(resolve(c, node, f"{path}.{i}") for i, c in enumerate(route.routes))
    return ResolvedRoute(**{**node.__dict__, "children": children})


def match_routes(node: ResolvedRoute, labels: Mapping[str, Any]) -> list[ResolvedRoute]:
    """The routes an alert is delivered through, Alertmanager style.

    Children are tried in order; the first match wins unless it has ``continue: true``, in which
    case later siblings are tried too. A node none of whose children match handles the alert.
    """
    if not matches_all(node.matchers, labels):
        return []
    found: list[ResolvedRoute] = []
    for child in node.children:
        matched = match_routes(child, labels)
        if matched:
            found.extend(matched)
            if not child.continue_:
                break
    return found or [node]


def group_of(route: ResolvedRoute, labels: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """(group key, group labels): one notification stream per route and group_by values."""
    names = sorted(labels) if "..." in route.group_by else list(route.group_by)
    values = {name: str(labels.get(name, "") or "") for name in names}
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(values.items()))
    key = f"{route.id}:{{{inner}}}"
    if len(key) > 200:
        key = f"{route.id[:120]}:{hashlib.sha256(inner.encode()).hexdigest()[:32]}"
    return key, values


def inhibited(labels: Mapping[str, Any], fingerprint: str, rules: tuple[InhibitRule, ...],
              firing: Mapping[str, Mapping[str, Any]]) -> bool:
    """True when a different firing alert matches a rule's source with the same ``equal`` values."""
    for rule in rules:
        if not matches_all(rule.target_matchers, labels):
            continue
        for source_fp, source_labels in firing.items():
            if source_fp == fingerprint or not matches_all(rule.source_matchers, source_labels):
                continue
            if all(str(source_labels.get(e, "")) == str(labels.get(e, "")) for e in rule.equal):
                return True
    return False


# -- receivers and their URLs ---------------------------------------------------------------


@dataclass(frozen=True)
class ReceiverTarget:
    name: str
    urls: tuple[str, ...]
    body_format: str
    send_resolved: bool


def split_urls(value: str) -> tuple[str, ...]:
    return tuple(part for part in value.split() if part)


def receiver_targets(config: AlertingConfig, env_urls: Mapping[str, SecretStr]) -> dict[str, ReceiverTarget]:
    """Every receiver with at least one URL; receivers without one are left out (see warnings)."""
    targets = {}
    for receiver in config.receivers:
        urls = [u.get_secret_value().strip() for u in receiver.urls]
        if receiver.urls_from_env and receiver.urls_from_env in env_urls:
            urls.extend(split_urls(env_urls[receiver.urls_from_env].get_secret_value()))
        urls = [u for u in urls if u]
        if urls:
            targets[receiver.name] = ReceiverTarget(receiver.name, tuple(urls), receiver.body_format,
                                                    receiver.send_resolved)
    return targets


def startup_warnings(config: AlertingConfig, env_urls: Mapping[str, SecretStr]) -> list[str]:
    """One line per receiver that will be skipped, and one if nothing is routed at all."""
    if config.route is None:
        return ["alerting: no route configured (config/alerting.yaml): alerts are recorded but nobody is notified"]
    targets = receiver_targets(config, env_urls)
    lines = []
    for receiver in config.receivers:
        if receiver.name not in targets:
            where = f"set {receiver.urls_from_env}" if receiver.urls_from_env else "add urls or urls_from_env"
            lines.append(f"alerting: receiver {receiver.name!r} has no URL configured and is skipped ({where})")
    return lines


def check_alerting(config: AlertingConfig, path: Path, env_urls: Mapping[str, SecretStr]) -> list[str]:
    """Cross-references and URL syntax, each problem as `file: field: message (hint)`."""
    problems = []
    names = [r.name for r in config.receivers]
    known = ", ".join(names) or "none defined"

    def visit(route: Route, where: str) -> None:
        if route.receiver is not None and route.receiver not in names:
            problems.append(f"{path}: {where}.receiver: unknown receiver {route.receiver!r} "
                            f"(hint: use a name from receivers: {known})")
        for i, child in enumerate(route.routes):
            visit(child, f"{where}.routes[{i}]")

    if config.route is not None:
        visit(config.route, "route")
    for i, receiver in enumerate(config.receivers):
        env = receiver.urls_from_env
        for field_name, urls in (
            ("urls", tuple(u.get_secret_value() for u in receiver.urls)),
            ("urls_from_env", split_urls(env_urls[env].get_secret_value()) if env in env_urls else ()),
        ):
            for bad in invalid_urls(urls):
                source = f" (from {env})" if field_name == "urls_from_env" else ""
                problems.append(f"{path}: receivers[{i}].{field_name}: apprise does not understand a URL "
                                f"starting {bad!r}{source} (hint: see the apprise wiki for the URL forms)")
    return problems


def invalid_urls(urls: tuple[str, ...]) -> list[str]:
    """The scheme of each URL apprise cannot load (never the whole URL: it is a secret)."""
    import apprise

    bad = []
    with quiet_apprise():
        for url in urls:
            if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
                bad.append(url.split("://", 1)[0] + "://")
    return bad


@contextmanager
def quiet_apprise() -> Iterator[None]:
    """Apprise logs a URL it cannot parse in full; that URL is a secret, so mute it meanwhile."""
    logger = logging.getLogger("apprise")
    before = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = before
