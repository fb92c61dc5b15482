"""Post tension: one documented 0-1 number from the head scores and narrative matches.

Each signal is first cut at a floor (scores below it are noise, not weak evidence) and
rescaled to 0-1 above it; the rescaled signals then combine like independent risks:

    tension = 1 - prod_i (1 - weight_i * signal_i)

so one strong signal is enough to make a post tense, several moderate ones add up, and the
result never exceeds 1. Weights say how much each kind of content matters to community
tension; calls to gather and hate weigh most (the Southport lesson), known false narratives
next, generic conspiracy framing, offensiveness and negativity least. "offensive" here is the
part of the abuse score that is not hate, so hateful posts are not counted twice.

A narrative match counts with its fused match score, halved while it is only "suggested", and
only for narratives whose status is false or misleading.
"""

from __future__ import annotations

from dataclasses import dataclass

WEIGHTS = {
    "mobilisation": 0.95,
    "hate": 0.9,
    "narrative": 0.7,
    "conspiracy": 0.5,
    "offensive": 0.3,
    "negativity": 0.2,
}
FLOORS = {
    "mobilisation": 0.3,
    "hate": 0.3,
    "narrative": 0.0,
    "conspiracy": 0.4,
    "offensive": 0.4,
    "negativity": 0.5,
}
HARMFUL_STATUSES = frozenset({"false", "misleading"})


@dataclass(frozen=True)
class Tension:
    score: float
    drivers: dict[str, float]  # signal name -> its contribution (weight * rescaled signal)


def _rescale(value: float, floor: float) -> float:
    if value <= floor:
        return 0.0
    return min(1.0, (value - floor) / (1.0 - floor))


def post_tension(scores: dict[str, float], narratives: list[dict]) -> Tension:
    signals = {
        "mobilisation": scores.get("mobilisation", 0.0),
        "hate": scores.get("hate", 0.0),
        "conspiracy": scores.get("conspiracy", 0.0),
        "offensive": max(0.0, scores.get("offensive", 0.0) - scores.get("hate", 0.0)),
        "negativity": scores.get("negativity", 0.0),
        "narrative": max(
            (
                m["score"] * (1.0 if m.get("level") == "confirmed" else 0.5)
                for m in narratives
                if m.get("status") in HARMFUL_STATUSES
            ),
            default=0.0,
        ),
    }
    remaining = 1.0
    drivers = {}
    for name, value in signals.items():
        contribution = WEIGHTS[name] * _rescale(value, FLOORS[name])
        if contribution > 0:
            drivers[name] = round(contribution, 4)
            remaining *= 1.0 - contribution
    ordered = dict(sorted(drivers.items(), key=lambda kv: -kv[1]))
    return Tension(score=round(1.0 - remaining, 4), drivers=ordered)
