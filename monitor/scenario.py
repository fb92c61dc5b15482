"""Generate the fictional demo week: ``config/demo/scenario.jsonl``.

    python -m monitor.scenario --out config/demo/scenario.jsonl [--seed 47]

Everything generated is FICTIONAL: the accounts, the posts, the businesses, the hostel and
hotel, the statements attributed to the council, police and community groups. Real place names
are used so that locality resolution can be demonstrated on the bundled Cumberland config.

The week is ISO week 2026-W47, Monday 16 to Sunday 22 November 2026. In November UK time is
UTC, so the times in the posts ("2pm") match the UTC timestamps. Each line carries a ``thread``
tag - the ground truth the tests and the demo walkthrough use:

``chatter`` and ``news`` - the baseline (about 70% of lines)
    Everyday posts in every locality, volume roughly proportional to population, with a day and
    night rhythm (quiet 01-06, peaks 07-09 and 17-22): roadworks, weather, flood alerts,
    football, markets, bins, schools, Sellafield jobs, lost dogs, buses, GP queues. Places are
    named by name, alias, hashtag or postcode district; ambiguous names (Brampton, Dalston,
    Longtown, Wigton...) usually carry a context word. Includes hard negatives: a Christmas
    lights switch-on and a football match that people are told to "bring everyone" to, a
    police road-closure notice, a charity Santa Dash, a coffee morning at a sensitive site, a
    bus-cuts petition hand-in, court and "look back" reports of past protests, flu-jab clinics,
    and a dozen posts about same-named places elsewhere (Dalston in Hackney, Brampton in
    Ontario...).

``narrative:migrants-priority-council-housing`` - the known narrative (~255 posts)
    "The new council flats are going to asylum seekers while local families wait years."
    Starts Monday in Whitehaven, reaches Workington on Tuesday, Maryport and Cockermouth on
    Wednesday, Carlisle on Thursday, Wigton, Egremont, Cleator Moor and Keswick on Friday,
    and tails off over the weekend.

``rumour`` - a brand-new false rumour, not in the library (~125 posts)
    A real (in-story) fire at the fictional Harker & Benn furniture warehouse on Lowmill
    Trading Estate, Workington, on Wednesday 18 November at about 21:40 is falsely blamed on
    residents of Marlbeck House, a fictional supported-housing hostel, with "the police are
    covering it up". A few posts on Wednesday night, ~48 on Thursday, ~62 on Friday (Workington,
    Harrington, Distington, Maryport, then Whitehaven, Cockermouth, Carlisle), a tail on Saturday.

``hate`` - a hate surge against Muslims (~150 posts)
    Thursday 19 November 18:00 to Saturday 21 November 06:00, in Whitehaven (about 70%) with
    Cleator Moor, Egremont and nearby villages; peaks on Friday evening. Dehumanising and
    exclusionary language ("invaders", "vermin", "send them back", "they don't belong here"),
    aimed at the fictional Harbour View Islamic Centre and Muslim residents. No slurs.

``offensive`` - offensive but not hateful (~55 posts, all week)
    Swearing and insults at councillors, referees, drivers and exes.

``mobilisation`` - a call to gather (~42 posts)
    "Saturday 21st 2pm outside the Riverside Hotel, Workington - bring everyone", first posted
    on Telegram on Friday 20 November at about 09:10, reposted on X and Facebook through Friday
    and Saturday morning; "last call" at 13:38 on Saturday, a few more until 13:48. News
    reports the gathering from about 15:35. The Riverside Hotel is a fictional sensitive site
    (asylum accommodation) in config/localities/cumberland.yaml.

``amplification`` - a copy-paste burst (~60 posts)
    Thursday 19 November 20:05-20:45: about 52 new accounts post near-identical text pushing
    the known narrative ("SHARE THIS. The council are giving the new flats to asylum seekers
    while local families wait years on the housing list. Ask your councillor why.").

``counter`` - counter-speech (~120 posts)
    Housing myth corrections from Monday, a (fictional) council statement on Wednesday 12:05,
    a (fictional) police and fire statement that the warehouse fire was electrical on Friday
    11:00, condemnation of the hate posts (some quoting them), calls for calm and an interfaith
    tea at the Oxford Street Community Centre on Saturday 11:00, clean-up and thanks on Sunday.

``report`` - community reports from partners (~30, platform ``report``)
    Hate incidents, rumours, tension and ASB written as a partner would file them.

``narrative:<other id>`` - a few posts each for other library entries (two-tier policing after
    the gathering, asylum-hotel rumours about the Riverside, 5G, vaccines, 15-minute cities...).

The generator is deterministic: same seed and same localities file, same output. It uses the
standard library and PyYAML only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from monitor import scenario_phrases as P

DEFAULT_SEED = 47
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOCALITIES = ROOT / "config" / "localities" / "cumberland.yaml"
DEFAULT_OUT = ROOT / "config" / "demo" / "scenario.jsonl"

WEEK_START = dt.datetime(2026, 11, 16, tzinfo=dt.timezone.utc)  # Monday, ISO 2026-W47
WEEK_END = WEEK_START + dt.timedelta(days=7)
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)

# Relative activity by hour of day (UTC = UK time in November).
HOURLY_WEEKDAY = [0.5, 0.25, 0.12, 0.08, 0.08, 0.2, 0.6, 1.6, 1.9, 1.5, 1.1, 1.0,
                  1.2, 1.1, 1.0, 1.0, 1.2, 1.6, 1.8, 1.9, 1.9, 1.7, 1.3, 0.9]
HOURLY_WEEKEND = [0.8, 0.45, 0.2, 0.1, 0.08, 0.12, 0.3, 0.7, 1.2, 1.6, 1.7, 1.6,
                  1.5, 1.4, 1.3, 1.2, 1.3, 1.5, 1.7, 1.8, 1.8, 1.7, 1.4, 1.1]
DAY_WEIGHTS = [1.0, 1.0, 1.0, 1.0, 1.05, 1.1, 0.95]

N_CHATTER = 2050
N_NEWS = 230
N_OFFENSIVE = 55
CHATTER_PLATFORMS = {"facebook": 38, "x": 24, "bluesky": 11, "reddit": 9, "mastodon": 5,
                     "telegram": 2}

# Former districts, for road names and Sellafield talk.
CARLISLE_DISTRICT = {"carlisle", "wetheral", "scotby", "great-corby", "dalston",
                     "burgh-by-sands", "longtown", "brampton"}
COPELAND_DISTRICT = {"whitehaven", "lowca", "distington", "st-bees", "egremont", "cleator-moor",
                     "cleator", "moor-row", "frizington", "arlecdon", "beckermet", "seascale",
                     "gosforth", "ravenglass", "millom", "haverigg"}
# Volume weights for places GeoNames has no population for (approximate).
FALLBACK_POPULATION = {"harrington": 3000, "cleator": 800, "ravenglass": 300}
# A neighbour to name next to an ambiguous place ("Brampton near Carlisle").
NEAR = {"brampton": "Carlisle", "dalston": "Carlisle", "longtown": "Carlisle",
        "wigton": "Carlisle", "gosforth": "Seascale", "egremont": "Whitehaven",
        "harrington": "Workington", "brigham": "Cockermouth", "thursby": "Carlisle"}

# Storyline 2: posts per day per locality, and where people say it came from.
HOUSING_SPREAD = {
    MON: {"whitehaven": 22},
    TUE: {"whitehaven": 18, "workington": 24, "st-bees": 3, "cleator-moor": 3},
    WED: {"workington": 18, "maryport": 17, "cockermouth": 13, "whitehaven": 8, "harrington": 3},
    THU: {"carlisle": 32, "maryport": 7, "cockermouth": 5, "workington": 7, "wigton": 4},
    FRI: {"carlisle": 18, "wigton": 7, "egremont": 7, "cleator-moor": 6, "keswick": 4},
    SAT: {"carlisle": 7, "brampton": 3, "silloth": 3, "millom": 3, "workington": 3,
          "whitehaven": 2},
    SUN: {"carlisle": 4, "millom": 2, "keswick": 2, "maryport": 2},
}
HOUSING_PREV = {"workington": "Whitehaven", "st-bees": "Whitehaven", "cleator-moor": "Whitehaven",
                "maryport": "Workington", "cockermouth": "Workington", "harrington": "Workington",
                "carlisle": "Workington", "wigton": "Carlisle", "egremont": "Whitehaven",
                "keswick": "Cockermouth", "brampton": "Carlisle", "silloth": "Maryport",
                "millom": "Whitehaven"}
# Storyline 3: the rumour, per day per locality (Wednesday only after the fire).
RUMOUR_SPREAD = {
    WED: {"workington": 6},
    THU: {"workington": 30, "harrington": 6, "distington": 4, "maryport": 6, "flimby": 2},
    FRI: {"workington": 28, "maryport": 10, "whitehaven": 9, "cockermouth": 7, "carlisle": 5,
          "harrington": 3},
    SAT: {"workington": 8, "maryport": 2},
}
FIRE_AT = WEEK_START + dt.timedelta(days=WED, hours=21, minutes=40)
HATE_START = WEEK_START + dt.timedelta(days=THU, hours=18)
HATE_HOURS = 36
HATE_PLACES = {"whitehaven": 0.70, "cleator-moor": 0.12, "egremont": 0.08, "st-bees": 0.03,
               "frizington": 0.03, "moor-row": 0.02, "distington": 0.02}
N_HATE = 150
GATHERING = WEEK_START + dt.timedelta(days=SAT, hours=14)
BURST_START = WEEK_START + dt.timedelta(days=THU, hours=20, minutes=5)
BURST_MINUTES = 40


@dataclass(frozen=True)
class Place:
    id: str
    name: str
    aliases: tuple[str, ...]
    hashtags: tuple[str, ...]
    postcodes: tuple[str, ...]
    weight: float
    ambiguous: bool

    @property
    def district(self) -> str:
        if self.id in CARLISLE_DISTRICT:
            return "carlisle"
        return "copeland" if self.id in COPELAND_DISTRICT else "allerdale"


def load_places(path: Path) -> dict[str, Place]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    places = {}
    for loc in data["localities"]:
        pop = loc.get("population") or FALLBACK_POPULATION.get(loc["id"], 500)
        places[loc["id"]] = Place(
            id=loc["id"], name=loc["name"], aliases=tuple(loc.get("aliases", ())),
            hashtags=tuple(loc.get("hashtags", ())),
            postcodes=tuple(loc.get("postcode_districts", ())),
            weight=max(pop, 900), ambiguous=bool(loc.get("ambiguous_with")),
        )
    return places


class Scenario:
    def __init__(self, seed: int, places: dict[str, Place]):
        self.rng = random.Random(seed)
        self.places = places
        self.posts: list[tuple[dt.datetime, str, str, str, str]] = []
        self._make_handles()

    # ------------------------------------------------------------------ accounts
    def _make_handles(self) -> None:
        rng, seen = self.rng, set()
        while len(seen) < 1500:
            h = rng.choice(P.HANDLE_FIRST) + rng.choice(P.HANDLE_JOIN) + rng.choice(P.HANDLE_SUFFIX)
            if rng.random() < 0.35:
                h += str(rng.randint(1, 99))
            seen.add(h.strip("._"))
        self.handles = sorted(seen)
        rng.shuffle(self.handles)
        # Each account has a home locality, so the same people talk about the same town.
        ids = sorted(self.places)
        weights = [self.places[i].weight for i in ids]
        self.home: dict[str, list[str]] = {i: [] for i in ids}
        for h in self.handles:
            self.home[rng.choices(ids, weights)[0]].append(h)
        # A few accounts post a lot (heavy tail).
        self.activity = [1.0 / (rank + 1) ** 0.7 for rank in range(len(self.handles))]

    def author(self, place: str | None = None) -> str:
        local = self.home.get(place or "", [])
        if local and self.rng.random() < 0.8:
            return self.rng.choice(local)
        return self.rng.choices(self.handles, self.activity)[0]

    def new_handles(self, n: int, stems: list[str]) -> list[str]:
        out: list[str] = []
        while len(out) < n:
            h = f"{self.rng.choice(stems)}{self.rng.choice(['', '_', ''])}{self.rng.randint(100, 99999)}"
            if h not in out and h not in self.handles:
                out.append(h)
        return out

    # ------------------------------------------------------------------ time
    def time_on(self, day: int, lo: int = 0, hi: int = 24) -> dt.datetime:
        profile = HOURLY_WEEKEND if day >= SAT else HOURLY_WEEKDAY
        hours = list(range(lo, hi))
        hour = self.rng.choices(hours, [profile[h] for h in hours])[0]
        return WEEK_START + dt.timedelta(days=day, hours=hour, seconds=self.rng.randrange(3600))

    def time_between(self, start: dt.datetime, end: dt.datetime, skew: float = 1.0) -> dt.datetime:
        """Uniform when skew is 1; skew > 1 crowds the times towards ``end`` (a growing story)."""
        u = self.rng.random() ** (1.0 / skew)
        return start + dt.timedelta(seconds=int(u * (end - start).total_seconds()))

    def time_in_window(self, start: dt.datetime, hours: int, growth: float = 0.0,
                       peaks: dict[int, float] | None = None) -> dt.datetime:
        """Hour-by-hour weights from the daily rhythm, times a linear growth and extra peaks."""
        weights = []
        for i in range(hours):
            t = start + dt.timedelta(hours=i)
            profile = HOURLY_WEEKEND if t.weekday() >= SAT else HOURLY_WEEKDAY
            w = profile[t.hour] * (1 + growth * i / hours) * (peaks or {}).get(i, 1.0)
            weights.append(w)
        i = self.rng.choices(range(hours), weights)[0]
        return start + dt.timedelta(hours=i, seconds=self.rng.randrange(3600))

    # ------------------------------------------------------------------ text
    def place_text(self, pid: str | None) -> str:
        if pid is None:
            return self.rng.choice(["town", "Cumbria", "West Cumbria", "round here", "the area"])
        p, r = self.places[pid], self.rng.random()
        if p.ambiguous:
            c = self.rng.random()
            if c < 0.6:
                return self.rng.choice([f"{p.name}, Cumbria", f"{p.name} (Cumbria)", f"{p.name} in Cumbria"])
            if c < 0.85 and pid in NEAR:
                return f"{p.name} near {NEAR[pid]}"
            return p.name
        if r < 0.68:
            return p.name
        if r < 0.80:
            return p.name.lower()
        if r < 0.90 and p.aliases:
            return self.rng.choice(p.aliases)
        return p.name

    def formal_place(self, pid: str) -> str:
        """How a newsroom or a partner writes the place: proper name, county when ambiguous."""
        p = self.places[pid]
        if p.ambiguous and self.rng.random() < 0.7:
            return f"{p.name}, Cumbria"
        return p.name

    def area_text(self, pid: str | None) -> str:
        p = self.places.get(pid or "")
        if p and p.postcodes and self.rng.random() < 0.6:
            return f"{self.rng.choice(p.postcodes)} area"
        return f"{self.place_text(pid)} area"

    def fill(self, template: str, pid: str | None, **extra: str) -> str:
        rng = self.rng
        district = self.places[pid].district if pid else rng.choice(list(P.ROADS))
        teams = P.TEAMS.get(pid or "", P.DEFAULT_TEAMS)
        slots = {
            "place": self.place_text(pid), "street": rng.choice(P.STREETS),
            "shop": rng.choice(P.SHOPS), "pub": rng.choice(P.PUBS),
            "road": rng.choice(P.ROADS[district]),
            "river": rng.choice(P.RIVERS.get(pid or "", ["Derwent"])),
            "team": rng.choice(teams), "opp": rng.choice(P.OPPONENTS),
            "rlteam": rng.choice(P.RL_TEAMS),
            "time": rng.choice(P.TIMES), "day": rng.choice(P.DAYS), "dog": rng.choice(P.DOG_BREEDS),
            "pet_name": rng.choice(P.PET_NAMES), "area": self.area_text(pid),
            "cllr": rng.choice(P.SURNAMES), "rel": rng.choice(P.RELATIVES),
            "years": str(rng.choice([2, 3, 4, 5, 6, 7, 8, 9])),
            "dev": P.HOUSING_DEVELOPMENTS.get(pid or "", "the new builds"),
            "name": f"{rng.choice(P.FIRST_NAMES)} {rng.choice(P.SURNAMES)}",
        }
        slots.update(extra)
        return template.format(**slots)

    def casual(self, text: str, typo: float = 0.08, lower: float = 0.15, emoji: float = 0.05) -> str:
        rng = self.rng
        if rng.random() < typo:
            words = text.split(" ")
            options = [i for i, w in enumerate(words) if w.isalpha() and len(w) > 4 and w.islower()]
            if options:
                i = rng.choice(options)
                w = words[i]
                j = rng.randrange(len(w) - 1)
                words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:] if rng.random() < 0.6 else w[:j] + w[j + 1:]
                text = " ".join(words)
        if rng.random() < lower:
            text = text.lower()
        if rng.random() < 0.3:
            text = text.rstrip(".")
        if rng.random() < emoji and not text.endswith(tuple(P.EMOJI)):
            text += " " + rng.choice(P.EMOJI)
        return text

    def tag(self, text: str, pid: str | None, p: float) -> str:
        if pid and self.places[pid].hashtags and self.rng.random() < p:
            return f"{text} {self.rng.choice(self.places[pid].hashtags)}"
        return text

    def reply(self, text: str, platform: str, p: float = 0.12) -> str:
        if platform in ("x", "bluesky", "mastodon") and self.rng.random() < p:
            return f"@{self.rng.choice(self.handles)} {text}"
        return text

    def emit(self, when: dt.datetime, platform: str, author: str, text: str, thread: str) -> None:
        assert WEEK_START <= when < WEEK_END, when
        self.posts.append((when, platform, author, text, thread))

    def platform(self, table: dict[str, int] = CHATTER_PLATFORMS) -> str:
        return self.rng.choices(list(table), list(table.values()))[0]

    def pick_place(self, weights: dict[str, float]) -> str:
        return self.rng.choices(list(weights), list(weights.values()))[0]

    # ------------------------------------------------------------------ storylines
    def baseline(self) -> None:
        rng, ids = self.rng, sorted(self.places)
        weights = [self.places[i].weight for i in ids]
        for _ in range(N_CHATTER):
            day = rng.choices(range(7), DAY_WEIGHTS)[0]
            pid = rng.choices(ids, weights)[0] if rng.random() < 0.9 else None
            topics = [(t, w * self._topic_factor(t, pid), tpls) for t, w, tpls in P.CHATTER]
            topic, _, templates = rng.choices(topics, [w for _, w, _ in topics])[0]
            platform = self.platform()
            text = self.fill(rng.choice(templates), pid)
            text = self.reply(self.casual(self.tag(text, pid, 0.15)), platform)
            self.emit(self.time_on(day), platform, self.author(pid), text, "chatter")
        for text in P.OUT_OF_AREA:
            day = rng.randrange(7)
            self.emit(self.time_on(day), self.platform(), rng.choice(self.handles), text, "chatter")
        for day, hour, platform, pid, text in HARD_NEGATIVES:
            when = WEEK_START + dt.timedelta(days=day, hours=hour, minutes=rng.randrange(60))
            self.emit(when, platform, self.author(pid), text, "chatter")
        for _ in range(N_NEWS):
            day = rng.randrange(7)
            pid = rng.choices(ids, [w ** 0.6 for w in weights])[0]
            text = self.fill(rng.choice(P.NEWS), pid, place=self.formal_place(pid),
                             day=rng.choice(["Saturday", "Friday", "Sunday"]))
            self.emit(self.time_on(day, 6, 23), "news", rng.choice(P.OUTLETS), text, "news")
        # The (in-story, real) warehouse fire and the gathering, reported factually.
        for i, text in enumerate(P.FIRE_NEWS):
            when = FIRE_AT + dt.timedelta(minutes=(50, 560, 840, 1110)[i] + rng.randrange(20))
            self.emit(when, "news", P.OUTLETS[i % 2], text, "news")
        for i, text in enumerate(P.GATHERING_NEWS):
            when = GATHERING + dt.timedelta(minutes=(95, 190, 1150)[i] + rng.randrange(20))
            self.emit(when, "news", P.OUTLETS[(i + 1) % 4], text, "news")

    def _topic_factor(self, topic: str, pid: str | None) -> float:
        if topic == "sellafield":
            return {"copeland": 3.0, "allerdale": 0.8, "carlisle": 0.1}[self.places[pid].district] if pid else 0.5
        if topic == "flood":
            return 1.0 if pid in P.RIVERS else 0.0
        if topic == "football":
            return 1.5 if pid in P.TEAMS else 0.6
        return 1.0

    def offensive(self) -> None:
        ids = sorted(self.places)
        weights = [self.places[i].weight for i in ids]
        for _ in range(N_OFFENSIVE):
            day = self.rng.randrange(7)
            pid = self.rng.choices(ids, weights)[0]
            platform = self.platform({"facebook": 4, "x": 4, "reddit": 1, "bluesky": 1})
            text = self.casual(self.fill(self.rng.choice(P.OFFENSIVE), pid), lower=0.25)
            self.emit(self.time_on(day, 7, 24), platform, self.author(pid), text, "offensive")

    def housing_narrative(self) -> None:
        thread = "narrative:migrants-priority-council-housing"
        spreaders = self.rng.sample(self.handles, 6)  # a few accounts that post everywhere
        for day, per_place in HOUSING_SPREAD.items():
            for pid, n in per_place.items():
                prev = HOUSING_PREV.get(pid)
                templates = [t for t in P.HOUSING if prev or "{prev}" not in t]
                for _ in range(n):
                    platform = self.platform({"facebook": 6, "x": 3, "telegram": 1, "reddit": 1})
                    text = self.fill(self.rng.choice(templates), pid, prev=prev or "")
                    text = self.reply(self.casual(self.tag(text, pid, 0.25), lower=0.2), platform)
                    who = self.rng.choice(spreaders) if self.rng.random() < 0.12 else self.author(pid)
                    self.emit(self.time_on(day, 6, 24), platform, who, text, thread)

    def rumour(self) -> None:
        for day, per_place in RUMOUR_SPREAD.items():
            for pid, n in per_place.items():
                for _ in range(n):
                    if day == WED:
                        when = self.time_between(FIRE_AT + dt.timedelta(minutes=15), WEEK_START + dt.timedelta(days=THU))
                    else:
                        when = self.time_on(day, 6, 24)
                    if pid == "workington":  # not "...in Workington, next it'll be Workington"
                        templates = [t for t in P.RUMOUR if "{place}" not in t or "Workington" not in t]
                    elif self.rng.random() < 0.6:
                        templates = [t for t in P.RUMOUR if "{place}" in t]
                    else:
                        templates = P.RUMOUR
                    platform = self.platform({"facebook": 6, "x": 3, "telegram": 2})
                    template = self.rng.choice(templates)
                    named = "{place}" in template or "Workington" in template
                    text = self.fill(template, pid)
                    text = self.reply(self.casual(self.tag(text, pid, 0.15 if named else 0.6), lower=0.2), platform)
                    self.emit(when, platform, self.author(pid), text, "rumour")

    def hate(self) -> None:
        core = self.new_handles(18, ["eng_", "true_cumbrian", "white_haven_lad", "nosurrender",
                                     "wcumbria_patriot", "stand_firm"])
        # Thursday evening as it starts, and Friday evening 18:00-23:59 at its height.
        peaks = {**{h: 1.6 for h in range(0, 6)}, **{h: 1.8 for h in range(24, 30)}}
        for _ in range(N_HATE):
            pid = self.pick_place(HATE_PLACES)
            when = self.time_in_window(HATE_START, HATE_HOURS, growth=0.4, peaks=peaks)
            platform = self.platform({"x": 4, "facebook": 4, "telegram": 3})
            who = self.rng.choice(core) if self.rng.random() < 0.45 else self.author(pid)
            text = self.fill(self.rng.choice(P.HATE), pid)
            if self.rng.random() < 0.05:
                text = text.upper()
            text = self.reply(self.casual(self.tag(text, pid, 0.2), lower=0.2, emoji=0.0), platform, 0.15)
            self.emit(when, platform, who, text, "hate")

    def mobilisation(self) -> None:
        organisers = ["wtn_patriots_channel", "west_cumbria_awake", "workington_says_no"]
        start = WEEK_START + dt.timedelta(days=FRI, hours=9, minutes=12)
        self.emit(start, "telegram", organisers[0], P.MOBILISATION[1][1], "mobilisation")
        originals = [(start, organisers[0], P.MOBILISATION[1][1])]
        places = {"workington": 6, "whitehaven": 2, "maryport": 2, "harrington": 1,
                  "cleator-moor": 1, "carlisle": 1}
        friday = [t for w, t in P.MOBILISATION if w in ("fri", "any")]
        saturday = [t for w, t in P.MOBILISATION if w in ("sat", "any")]
        last_call = GATHERING - dt.timedelta(minutes=22)
        self.emit(last_call, "telegram", organisers[1], P.MOBILISATION[-1][1], "mobilisation")
        for _ in range(40):
            if self.rng.random() < 0.62:
                when = self.time_between(start + dt.timedelta(minutes=20),
                                         WEEK_START + dt.timedelta(days=SAT), skew=1.6)
                templates = friday
            else:
                when = self.time_between(WEEK_START + dt.timedelta(days=SAT, hours=7),
                                         GATHERING - dt.timedelta(minutes=12))
                templates = saturday
            earlier = [o for o in originals if o[0] < when]
            template = self.rng.choice(templates)
            pid = self.pick_place(places)
            if "{place}" in template and pid == "workington":  # "cars leaving Maryport for..."
                pid = self.pick_place({k: v for k, v in places.items() if k != "workington"})
            platform = self.platform({"telegram": 4, "x": 3, "facebook": 3})
            if earlier and self.rng.random() < 0.3:  # reposts of an earlier call
                _, src, body = self.rng.choice(earlier)
                text = {"x": f"RT @{src}: {body}", "telegram": f"Forwarded from {src}: {body}",
                        "facebook": f"👇👇 {body}"}[platform]
                who = self.author(pid)
            else:
                who = self.rng.choice(organisers) if self.rng.random() < 0.3 else self.author(pid)
                text = self.casual(self.fill(template, pid), typo=0.04, lower=0.15, emoji=0.0)
                originals.append((when, who, text))
            self.emit(when, platform, who, text, "mobilisation")

    def amplification(self) -> None:
        rng = self.rng
        accounts = self.new_handles(52, P.AMPLIFIER_STEMS)
        authors = accounts + rng.sample(accounts, 8)
        for who in authors:
            when = BURST_START + dt.timedelta(seconds=rng.randrange(BURST_MINUTES * 60))
            tags = rng.sample(P.AMPLIFY_TAGS, rng.choice([2, 3, 3, 4]))
            text = (f"{rng.choice(P.AMPLIFY_OPENERS)} {rng.choice(P.AMPLIFY_SUBJECTS)} giving "
                    f"{rng.choice(P.AMPLIFY_HOMES)} to asylum seekers while {rng.choice(P.AMPLIFY_WHO)} "
                    f"wait {rng.choice(P.AMPLIFY_YEARS)} on the housing list. "
                    f"{rng.choice(P.AMPLIFY_TAILS)}{rng.choice(P.AMPLIFY_EMOJI)} {' '.join(tags)}")
            self.emit(when, rng.choice(["x", "x", "x", "facebook"]), who, text, "amplification")

    def counter(self) -> None:
        rng, d = self.rng, lambda day, h=0, m=0: WEEK_START + dt.timedelta(days=day, hours=h, minutes=m)
        orgs = {"council": "cumberlandcouncil_demo", "police": "westcumbria_police_demo",
                "forum": "westcumbria_forum_demo", "together": "whitehaven_together_demo"}
        housing = [t for t in P.COUNTER_HOUSING if "statement" not in t]
        statement = next(t for t in P.COUNTER_HOUSING if "statement" in t)

        def post(when, templates, places, who=None, platforms=None):
            pid = self.pick_place(places)
            platform = self.platform(platforms or {"facebook": 5, "x": 3, "bluesky": 1, "mastodon": 1})
            text = self.reply(self.casual(self.fill(rng.choice(templates), pid), typo=0.04), platform, 0.3)
            self.emit(when, platform, who or self.author(pid), text, "counter")

        def housing_places(when):  # reply where the narrative has already reached
            seen: dict[str, float] = {}
            for day in range(when.weekday() + 1):
                for pid, n in HOUSING_SPREAD[day].items():
                    seen[pid] = seen.get(pid, 0) + n
            return seen

        for _ in range(12):
            when = self.time_between(d(MON, 10), d(WED, 12))
            post(when, housing, housing_places(when))
        self.emit(d(WED, 12, 5), "x", orgs["council"], self.fill(statement, "whitehaven"), "counter")
        self.emit(d(WED, 12, 9), "facebook", orgs["council"], self.fill(statement, "workington"), "counter")
        self.emit(d(WED, 13, 20), "news", P.OUTLETS[0],
                  "Council says claims that new homes are being kept for asylum seekers are untrue", "counter")
        for _ in range(23):
            when = self.time_between(d(WED, 12, 30), d(SAT, 12))
            post(when, housing + [statement], housing_places(when))
        fire_statement = P.COUNTER_FIRE[0]
        self.emit(d(FRI, 11, 2), "x", orgs["police"], fire_statement, "counter")
        self.emit(d(FRI, 11, 4), "facebook", orgs["police"], fire_statement, "counter")
        self.emit(d(FRI, 11, 40), "news", P.OUTLETS[1],
                  "Police: no evidence Workington warehouse fire was started deliberately, cause was electrical", "counter")
        for _ in range(17):
            post(self.time_between(d(FRI, 11, 10), d(SAT, 18), skew=0.7), P.COUNTER_FIRE,
                 {"workington": 6, "maryport": 2, "harrington": 1, "whitehaven": 1})
        for _ in range(30):
            post(self.time_between(d(FRI, 7), d(SUN, 20), skew=0.8), P.COUNTER_HATE,
                 {"whitehaven": 7, "cleator-moor": 1, "egremont": 1})
        windows = {"pre": (d(FRI, 14), d(SAT, 13, 30)), "after": (d(SAT, 15, 30), d(SAT, 23)),
                   "sun": (d(SUN, 8), d(SUN, 19))}
        for i in range(30):
            key = ("pre", "pre", "pre", "after", "sun")[i % 5]
            templates = [t for w, t in P.COUNTER_CALM if w == key]
            who = orgs["forum"] if i % 9 == 0 else None
            post(self.time_between(*windows[key]), templates, {"workington": 5, "whitehaven": 1}, who)

    def reports(self) -> None:
        for day, hour, kind, pid in REPORT_SCHEDULE:
            when = WEEK_START + dt.timedelta(days=day, hours=hour, minutes=self.rng.randrange(60))
            text = self.fill(self.rng.choice(P.REPORTS[kind]), pid, place=self.formal_place(pid))
            self.emit(when, "report", self.rng.choice(P.REPORTERS), text, "report")

    def other_narratives(self) -> None:
        rng, d = self.rng, lambda day, h=0: WEEK_START + dt.timedelta(days=day, hours=h)
        plan = {  # id: (count, start, end, places)
            "5g-covid": (5, d(MON), d(SUN, 22), {"cockermouth": 3, "keswick": 1, "carlisle": 1}),
            "covid-vaccine-harm": (7, d(MON), d(SUN, 22), {"carlisle": 3, "workington": 2, "whitehaven": 2}),
            "fifteen-minute-city-lockdown": (7, d(MON), d(SUN, 22), {"carlisle": 5, "wigton": 1, "brampton": 1}),
            "two-tier-policing": (10, d(SAT, 14), d(SUN, 22), {"workington": 4, "whitehaven": 1, "maryport": 1}),
            "migrant-benefit-myths": (7, d(MON), d(SUN, 22), {"carlisle": 2, "whitehaven": 2, "workington": 2, "millom": 1}),
            "great-replacement": (5, d(TUE), d(SUN, 22), {"whitehaven": 2, "workington": 2, "carlisle": 1}),
            "asylum-hotel-rumours": (10, d(FRI, 8), d(SAT, 16), {"workington": 5, "harrington": 1, "maryport": 1}),
            "southport-attacker-false-identity": (4, d(FRI, 9), d(SAT, 14), {"workington": 3, "whitehaven": 1}),
            "muslim-no-go-zones": (6, HATE_START, HATE_START + dt.timedelta(hours=HATE_HOURS),
                                   {"whitehaven": 4, "cleator-moor": 1, "egremont": 1}),
        }
        for nid, (n, start, end, places) in plan.items():
            for _ in range(n):
                pid = self.pick_place(places)
                platform = self.platform({"facebook": 5, "x": 4, "telegram": 2})
                text = self.casual(self.fill(rng.choice(P.OTHER_NARRATIVES[nid]), pid), lower=0.2)
                self.emit(self.time_between(start, end), platform, self.author(pid), text, f"narrative:{nid}")

    # ------------------------------------------------------------------ output
    def build(self) -> list[dict]:
        self.baseline()
        self.offensive()
        self.housing_narrative()
        self.rumour()
        self.hate()
        self.mobilisation()
        self.amplification()
        self.counter()
        self.reports()
        self.other_narratives()
        rows = sorted(self.posts, key=lambda p: (p[0], p[4], p[2], p[3]))
        out = []
        for n, (when, platform, author, text, thread) in enumerate(rows, start=1):
            out.append({
                "id": f"demo-{n:05d}", "published_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "platform": platform, "author": author, "text": text,
                "url": f"https://example.invalid/demo/{n:05d}", "lang": "en",
                "fictional": True, "thread": thread,
            })
        return out


# Everyday posts that look like calls to gather, or name a sensitive site, but are benign.
HARD_NEGATIVES = [
    (FRI, 17, "facebook", "workington", "Christmas lights switch-on Saturday 21st 4pm, Workington town centre. Bring everyone, bring the kids! 🎄"),
    (SAT, 10, "facebook", "workington", "Workington lights switch-on TODAY 4pm, see you all there, Santa arrives at 4.30"),
    (THU, 19, "x", "carlisle", "Carlisle United v Gateshead Saturday 3pm at Brunton Park. Get down there and bring everyone, we need the noise"),
    (SAT, 12, "x", "carlisle", "Brunton Park in an hour. Come on you Blues, everyone in the Warwick Road End"),
    (MON, 8, "facebook", "workington", "Coffee morning at the Oxford Street Community Centre, Workington, Tuesday 10am. All welcome, bring a friend"),
    (MON, 9, "facebook", "whitehaven", "Bus cuts protest: petition hand-in at the council offices in Whitehaven today 11am. Come along and bring a placard"),
    (WED, 18, "facebook", "keswick", "Santa Dash in Keswick Sunday 22nd 10am, meet at the Moot Hall, fancy dress encouraged, all money to the mountain rescue"),
    (SUN, 9, "facebook", "keswick", "Santa Dash Keswick this morning 10am. Hundreds of Santas, bring everyone to cheer"),
    (TUE, 12, "facebook", "cockermouth", "Flu jab walk-in clinic at the surgery in Cockermouth Thursday, 9 till 12"),
    (THU, 20, "x", "whitehaven", "Haven v Leigh tickets on sale now. Whitehaven, let's pack the place out Sunday"),
]

REPORT_SCHEDULE = [  # (day, hour, kind, locality)
    (MON, 15, "rumour_housing", "whitehaven"), (MON, 19, "asb", "carlisle"),
    (TUE, 11, "rumour_housing", "workington"), (TUE, 16, "rumour_housing", "workington"),
    (TUE, 20, "asb", "maryport"),
    (WED, 10, "rumour_housing", "maryport"), (WED, 14, "rumour_housing", "cockermouth"),
    (WED, 16, "tension", "whitehaven"),
    (THU, 10, "rumour_fire", "workington"), (THU, 12, "rumour_housing", "carlisle"),
    (THU, 15, "rumour_housing", "carlisle"), (THU, 16, "rumour_fire", "workington"),
    (THU, 17, "tension", "carlisle"),
    (FRI, 8, "hate", "whitehaven"), (FRI, 10, "hate", "cleator-moor"), (FRI, 12, "tension", "workington"),
    (FRI, 13, "rumour_fire", "workington"), (FRI, 15, "hate", "egremont"), (FRI, 18, "tension", "workington"),
    (FRI, 20, "hate", "whitehaven"), (FRI, 21, "tension", "whitehaven"),
    (SAT, 9, "hate", "whitehaven"), (SAT, 11, "tension", "workington"), (SAT, 13, "hate", "whitehaven"),
    (SAT, 16, "rumour_fire", "workington"), (SAT, 20, "asb", "workington"),
    (SUN, 10, "hate", "whitehaven"), (SUN, 12, "tension", "whitehaven"), (SUN, 15, "asb", "carlisle"),
    (SUN, 17, "rumour_housing", "millom"),
]


def generate(seed: int = DEFAULT_SEED, localities: Path = DEFAULT_LOCALITIES) -> list[dict]:
    """The scenario as a list of JSON-ready dicts, sorted by ``published_at``."""
    return Scenario(seed, load_places(localities)).build()


def summary(rows: list[dict]) -> str:
    threads = Counter(r["thread"] for r in rows)
    days = Counter(r["published_at"][:10] for r in rows)
    lines = [f"{len(rows)} posts"]
    lines += [f"  {t:<55} {n:>5}" for t, n in sorted(threads.items(), key=lambda kv: -kv[1])]
    lines += [f"  {d}  {n:>5}" for d, n in sorted(days.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the fictional demo week as JSON Lines.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output file ('-' for stdout)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 47)")
    parser.add_argument("--localities", type=Path, default=DEFAULT_LOCALITIES,
                        help="localities YAML the place names come from")
    args = parser.parse_args(argv)
    rows = generate(args.seed, args.localities)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if str(args.out) == "-":
        sys.stdout.write(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    print(summary(rows), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
