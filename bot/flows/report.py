"""What the staff pages and exports read: a period's counts, with k-anonymity applied in one
place (`flows.shown`)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from bot import content
from bot.flows import (
    CONF,
    FALLBACK_TURNS,
    INTENT,
    PATH,
    SEP,
    TOTAL,
    TRUNCATED,
    TURNS,
    Counts,
    is_action_label,
    k_threshold,
    retention_days,
    shown,
    today,
)
from bot.flows.store import Store


def day_range(days: int, end: str | None = None) -> list[str]:
    last = dt.date.fromisoformat(end or today())
    return [(last - dt.timedelta(days=i)).isoformat() for i in range(days - 1, -1, -1)]


@dataclass
class Report:
    days: list[str]
    counts: Counts
    k: int

    def total(self, metric: str, key: str | None = None) -> int:
        return sum(n for (_, m, k), n in self.counts.items()
                   if m == metric and (key is None or k == key))

    def per_day(self, metric: str, key: str = TOTAL) -> list[tuple[str, int]]:
        return [(d, self.counts.get((d, metric, key), 0)) for d in self.days]

    def by_key(self, metric: str) -> Counter[str]:
        c: Counter[str] = Counter()
        for (_, m, k), n in self.counts.items():
            if m == metric:
                c[k] += n
        return c

    def fallback_rate(self) -> str:
        """Share of messages that got a fallback; hidden unless both counts reach k."""
        fb, turns = self.total(FALLBACK_TURNS), self.total(TURNS)
        if fb < self.k or turns < self.k:
            return "–"
        return f"{100 * fb / turns:.1f} %".replace(".", ",")

    def mean_confidence(self) -> list[tuple[str, str, str]]:
        """(intent, count as shown, mean confidence or "–"), lowest mean first; a mean only for
        intents seen at least k times."""
        counts, sums = self.by_key(INTENT), self.by_key(CONF)
        rows = []
        for name, n in counts.items():
            mean = sums[name] / n / 10 if n else 0.0
            rows.append((n < self.k, mean if n >= self.k else 2.0, name, n))
        rows.sort()
        return [(name, shown(n, self.k), f"{mean:.2f}".replace(".", ",") if mean <= 1 else "–")
                for _, mean, name, n in rows]

    def common_paths(self, limit: int = 10) -> tuple[list[tuple[str, int]], int]:
        """Paths seen at least k times (most common first), and how many conversations took a
        rarer path (a rare path is never listed: it could single a person out)."""
        paths = self.by_key(PATH)
        common = [(p, n) for p, n in paths.most_common() if n >= self.k]
        rare = sum(n for n in paths.values() if n < self.k)
        return common[:limit], rare + sum(n for _, n in common[limit:])


def report(store: Store, days: int = 30, end: str | None = None) -> Report:
    span = day_range(max(1, min(days, retention_days())), end)
    return Report(span, store.read(span), k_threshold())


def csv_rows(rep: Report) -> list[list[str]]:
    """Rows of the CSV export, every count through shown(); rare paths only as a sum."""
    text = content.staff()["export"]
    rows = [list(text["csv_head"])]
    for (d, m, key), n in sorted(rep.counts.items()):
        if m == PATH and n < rep.k:
            continue
        if m == CONF:
            continue  # exported as a mean below, only where the count reaches k
        rows.append([d, m, key, shown(n, rep.k)])
    for d in rep.days:
        rare = sum(n for (dd, m, _), n in rep.counts.items()
                   if dd == d and m == PATH and n < rep.k)
        if rare:
            rows.append([d, PATH, text["rare_paths"], shown(rare, rep.k)])
        for (dd, m, key), n in sorted(rep.counts.items()):
            if dd == d and m == INTENT and n >= rep.k:
                mean = rep.counts.get((d, CONF, key), 0) / n / 10
                rows.append([d, text["mean_confidence"], key, f"{mean:.2f}"])
    return rows


def stories_yaml(rep: Report, limit: int = 20) -> str:
    """The most common paths (seen at least k times) as Rasa test stories."""
    common, rare = rep.common_paths(limit)
    text = content.staff()["export"]
    head = text["stories_head"].format(first=rep.days[0], last=rep.days[-1], k=rep.k,
                                       rare=shown(rare, rep.k))
    lines = [*("# " + line for line in head.splitlines()), 'version: "3.1"', "stories:"]
    for i, (path, n) in enumerate(common, 1):
        steps = [s for s in path.split(SEP) if s != TRUNCATED]
        story = text["story"].format(i=i, n=shown(n, rep.k))
        if path.endswith(TRUNCATED):
            story += text["shortened"]
        lines.append(f"  - story: {story}")
        lines.append("    steps:")
        for step in steps:
            kind = "action" if is_action_label(step) else "intent"
            lines.append(f"      - {kind}: {step}")
    if not common:
        lines[-1] = "stories: []"
    return "\n".join(lines) + "\n"


