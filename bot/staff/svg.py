"""The flow picture of the staff pages: the common paths as a tree from a start node, as inline
SVG with presentation attributes only (the CSP forbids inline styles)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from bot import content, flows
from bot.crisis_contract import FALLBACK_INTENT, INTENT_PREFIX, RESPONSE_PREFIX


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def copy() -> dict[str, Any]:
    return content.staff()["flow"]


NODE_W, NODE_H, COL_W, ROW_H, PAD = 200, 26, 232, 36, 12
FILL = {"intent": "#ede7f6", "action": "#e3f2fd", "crisis": "#fde2e1", "fallback": "#fff4cc",
        "start": "#4b2a82"}


def kind_of(step: str) -> str:
    if step.startswith((INTENT_PREFIX, RESPONSE_PREFIX)):
        return "crisis"
    if step in (FALLBACK_INTENT, *flows.FALLBACK_ACTIONS):
        return "fallback"
    return "action" if flows.is_action_label(step) else "intent"


@dataclass
class Node:
    """A step of the tree of paths: how many conversations reached it, and where it is drawn."""

    label: str
    n: int = 0
    kids: dict[str, Node] = field(default_factory=dict)
    depth: int = 0
    row: float = 0.0

    def ordered(self) -> list[Node]:
        return sorted(self.kids.values(), key=lambda c: -c.n)

    def xy(self) -> tuple[float, float]:
        return PAD + self.depth * COL_W, PAD + self.row * ROW_H


def tree(paths: list[tuple[str, int]]) -> Node:
    """The paths from one start node; shared beginnings merge."""
    root = Node("start")
    for path, n in paths:
        root.n += n
        node = root
        for step in path.split(flows.SEP):
            node = node.kids.setdefault(step, Node(step))
            node.n += n
    return root


def place(root: Node) -> tuple[int, int]:
    """Columns by depth; one row per leaf, a parent midway between its first and last child.
    Returns the deepest column and the number of rows."""
    rows, deepest = 0, 0

    def visit(node: Node, depth: int) -> float:
        nonlocal rows, deepest
        deepest = max(deepest, depth)
        node.depth = depth
        kids = node.ordered()
        if kids:
            ys = [visit(kid, depth + 1) for kid in kids]
            node.row = (ys[0] + ys[-1]) / 2
        else:
            node.row, rows = rows, rows + 1
        return node.row

    visit(root, 0)
    return deepest, rows


def edge(parent: Node, kid: Node, top: int) -> str:
    """A curve from `parent` to `kid`, as wide as the share of conversations that took it."""
    (x, y), (kx, ky) = parent.xy(), kid.xy()
    x1, y1, x2, y2 = x + NODE_W, y + NODE_H / 2, kx, ky + NODE_H / 2
    mid = (x1 + x2) / 2
    w = 1.5 + 12 * kid.n / top
    return (
        f'<path d="M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} '
        f'{x2:.0f},{y2:.0f}" fill="none" stroke="#7e57c2" stroke-opacity="0.45" '
        f'stroke-width="{w:.1f}"/>'
    )


def box(node: Node, kind: str, k: int) -> str:
    """A step's box: its name (shortened) and its count as shown (k-anonymity)."""
    x, y = node.xy()
    label = node.label if len(node.label) <= 24 else node.label[:23] + "…"
    count = flows.shown(node.n, k)
    color = "#ffffff" if kind == "start" else "#1c1b22"
    return (
        f'<g><title>{esc(copy()["node_title"].format(label=node.label, count=count))}'
        "</title>"
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="5" '
        f'fill="{FILL[kind]}" stroke="#6b6780" stroke-width="1"/>'
        f'<text x="{x + 8:.0f}" y="{y + 17:.0f}" font-size="12" fill="{color}" '
        f'font-family="system-ui, sans-serif">{esc(label)}</text>'
        f'<text x="{x + NODE_W - 8:.0f}" y="{y + 17:.0f}" font-size="12" fill="{color}" '
        f'text-anchor="end" font-weight="bold" font-family="system-ui, sans-serif">'
        f"{esc(count)}</text></g>"
    )


def flow_svg(paths: list[tuple[str, int]], k: int) -> str:
    """The common paths as a tree from a start node (shared beginnings merge), edge widths by
    count. Inline SVG with presentation attributes only (the CSP forbids inline styles)."""
    if not paths:
        return f"<p>{esc(copy()['none'].format(k=k))}</p>"
    root = tree(paths)
    deepest, rows = place(root)
    width = PAD * 2 + deepest * COL_W + NODE_W
    height = PAD * 2 + rows * ROW_H
    top = root.n or 1
    parts: list[str] = []

    def draw(node: Node) -> None:  # edges first, then the box over their ends
        for kid in node.ordered():
            parts.append(edge(node, kid, top))
            draw(kid)
        parts.append(box(node, "start" if node is root else kind_of(node.label), k))

    draw(root)
    return (
        f'<div class="flow"><svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{esc(copy()["aria_label"])}">{"".join(parts)}</svg></div>'
    )


def legend() -> str:
    items = copy()["legend"].items()
    return '<ul class="legend">' + "".join(
        f'<li><svg width="14" height="14" aria-hidden="true"><rect width="14" height="14" rx="3" '
        f'fill="{FILL[kind]}" stroke="#6b6780"/></svg> {esc(text)}</li>' for kind, text in items
    ) + "</ul>"
