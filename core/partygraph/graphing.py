"""Pictures of a party's neighbourhood: Mermaid, Graphviz DOT, and SVG through Graphviz.

A neighbourhood is read from the core's graph alone, so it draws any plugin's
parties and links without knowing the plugin: the relationships current at
``as_of`` (with the relationship's role on the edge) and the party's most recent
interactions, each drawn as a node of its own joined to every participant by
an edge labelled with the participant's role -- a trip links its rider and its
driver, a purchase its purchaser and its consumers. ``depth`` says how many
steps away from the party the walk goes.

Labels are escaped for each format (quotes, brackets, ``#``, ``|``, backticks,
line breaks, any unicode), and node ids never come from user data, so no party name can
break a picture.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from collections.abc import Iterable
from datetime import datetime

import attrs

from partygraph.errors import UserError
from partygraph.model import Context, Interaction, Party, PartyRef, PartySummary
from partygraph.reading import SqlGraph
from partygraph.toolkit import Toolkit

__all__ = [
    "GraphEdge",
    "GraphNode",
    "Neighbourhood",
    "neighbourhood",
    "to_dot",
    "to_mermaid",
    "to_svg",
]

#: Party kinds drawn with rounded corners (people); every other kind is a box.
_PEOPLE = frozenset({"person"})


@attrs.frozen
class GraphNode:
    """A party or an interaction in a picture."""

    id: str
    label: str
    kind: str
    interaction: bool = False


@attrs.frozen
class GraphEdge:
    """A relationship (source to target) or a participation (party to interaction)."""

    source: str
    target: str
    label: str
    participation: bool = False


@attrs.frozen
class Neighbourhood:
    """The parties, interactions and links around one party, as of one time."""

    root: str
    as_of: datetime
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]


def _party_node(party: PartySummary | Party) -> GraphNode:
    assert party.id is not None
    name = party.name or party.key
    return GraphNode(f"p{party.id}", f"{name}\n{party.kind} · {party.key}", party.kind)


def _interaction_node(interaction: Interaction) -> GraphNode:
    when = interaction.occurred_at.date().isoformat()
    label = interaction.type.replace("_", " ")
    return GraphNode(f"i{interaction.id}", f"{label}\n{when}", interaction.type, interaction=True)


def neighbourhood(
    toolkit: Toolkit,
    ref: PartyRef,
    *,
    depth: int = 1,
    as_of: datetime | str | None = None,
    interactions: int = 5,
    context: Context | None = None,
) -> Neighbourhood:
    """Walk *depth* steps from the party *ref* (a key or an id).

    Each party reached is expanded with its relationships current at *as_of*
    (default now) and its *interactions* most recent interactions before it.
    Every party whose links are read is announced to the plugins as a read
    (``partygraph_after_read``, action ``graph``), like any other read of the API.
    """
    if depth < 0:
        raise UserError(f"depth must be 0 or more, got {depth}")
    if interactions < 0:
        raise UserError(f"interactions must be 0 or more, got {interactions}")
    context = context or Context()
    with toolkit.reader(as_of) as graph:
        root = graph.party(ref)
        assert root.id is not None
        nodes: dict[str, GraphNode] = {f"p{root.id}": _party_node(root)}
        edges: dict[tuple[str, str, str], GraphEdge] = {}
        frontier = [root.id]
        seen = {root.id}
        for _ in range(depth):
            reached: list[int] = []
            for party_id in frontier:
                party = graph.party(party_id)
                toolkit.hooks.after_read(party, "graph", context)
                for other in _expand(graph, party_id, interactions, nodes, edges):
                    if other not in seen:
                        seen.add(other)
                        reached.append(other)
            frontier = reached
        return Neighbourhood(
            f"p{root.id}", graph.as_of, tuple(nodes.values()), tuple(edges.values())
        )


def _expand(
    graph: SqlGraph,
    party_id: int,
    limit: int,
    nodes: dict[str, GraphNode],
    edges: dict[tuple[str, str, str], GraphEdge],
) -> Iterable[int]:
    """Add the party's current relationships and recent interactions; yield the parties met."""
    for view in graph.relationships(party_id):
        rel = view.relationship
        other = view.other
        nodes.setdefault(f"p{other.id}", _party_node(other))
        source, target = (
            (party_id, other.id) if view.direction == "outgoing" else (other.id, party_id)
        )
        label = rel.type.replace("_", " ") + (f": {rel.role}" if rel.role else "")
        edge = GraphEdge(f"p{source}", f"p{target}", label)
        edges.setdefault((edge.source, edge.target, f"r{rel.id}"), edge)
        yield other.id
    if limit == 0:
        return
    recent = graph.interactions(party_id, before=graph.as_of, limit=limit)
    ids = {int(p.party) for item in recent for p in item.participants}
    summaries = graph.summaries(ids)
    for item in recent:
        node = _interaction_node(item)
        nodes.setdefault(node.id, node)
        for participant in item.participants:
            summary = summaries.get(int(participant.party))
            if summary is None:
                continue
            nodes.setdefault(f"p{summary.id}", _party_node(summary))
            edge = GraphEdge(f"p{summary.id}", node.id, participant.role, participation=True)
            edges.setdefault((edge.source, edge.target, participant.role), edge)
            yield summary.id


# -- Mermaid --------------------------------------------------------------------------------

#: Characters Mermaid would read inside a quoted label (a backtick starts Markdown text).
_MERMAID_ENTITIES = {
    "#": "#35;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "|": "#124;",
    "`": "#96;",
}


def _plain(text: str) -> str:
    """*text* with control characters and other line separators as spaces (``\n`` kept)."""
    return "".join(
        " " if char != "\n" and unicodedata.category(char) in _INVISIBLE else char
        for char in text.replace("\r\n", "\n")
    )


_INVISIBLE = frozenset({"Cc", "Zl", "Zp"})


def _mermaid_text(text: str) -> str:
    """A label for a quoted Mermaid string: entities for the characters Mermaid reads."""
    escaped = "".join(_MERMAID_ENTITIES.get(char, char) for char in _plain(text))
    return escaped.replace("\n", "<br/>")


def to_mermaid(picture: Neighbourhood) -> str:
    """The neighbourhood as a Mermaid flowchart (left to right)."""
    lines = ["flowchart LR"]
    for node in picture.nodes:
        label = _mermaid_text(node.label)
        if node.interaction:
            lines.append(f'    {node.id}{{{{"{label}"}}}}')
        elif node.kind in _PEOPLE:
            lines.append(f'    {node.id}("{label}")')
        else:
            lines.append(f'    {node.id}["{label}"]')
    for edge in picture.edges:
        arrow = "-.->" if edge.participation else "-->"
        lines.append(f'    {edge.source} {arrow}|"{_mermaid_text(edge.label)}"| {edge.target}')
    interactions = [node.id for node in picture.nodes if node.interaction]
    lines.append("    classDef interaction fill:#f4f4f4,stroke:#999,color:#333")
    lines.append("    classDef root stroke-width:3px")
    if interactions:
        lines.append(f"    class {','.join(interactions)} interaction")
    lines.append(f"    class {picture.root} root")
    return "\n".join(lines) + "\n"


# -- Graphviz DOT ---------------------------------------------------------------------------


def _dot_text(text: str) -> str:
    """A double-quoted DOT string: backslashes and quotes escaped, line breaks as ``\\n``,
    other control characters as spaces."""
    escaped = _plain(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n") + '"'


def to_dot(picture: Neighbourhood) -> str:
    """The neighbourhood as a Graphviz DOT digraph (left to right)."""
    lines = [
        "digraph neighbourhood {",
        '    graph [rankdir=LR, charset="UTF-8"];',
        '    node [fontname="Helvetica", fontsize=11];',
        '    edge [fontname="Helvetica", fontsize=9];',
    ]
    for node in picture.nodes:
        if node.interaction:
            style = 'shape=hexagon, style=filled, fillcolor="#f4f4f4", color="#999999"'
        elif node.kind in _PEOPLE:
            style = 'shape=box, style="rounded"'
        else:
            style = "shape=box"
        if node.id == picture.root:
            style += ", penwidth=3"
        lines.append(f"    {node.id} [label={_dot_text(node.label)}, {style}];")
    for edge in picture.edges:
        style = ", style=dashed" if edge.participation else ""
        lines.append(f"    {edge.source} -> {edge.target} [label={_dot_text(edge.label)}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- SVG ------------------------------------------------------------------------------------


def to_svg(picture: Neighbourhood, *, dot: str | None = None) -> str:
    """The neighbourhood as SVG, drawn by Graphviz's ``dot`` (which must be on PATH)."""
    program = dot or shutil.which("dot")
    if program is None:
        raise UserError(
            "--format svg: Graphviz's 'dot' program is not on PATH; install Graphviz "
            "(e.g. apt-get install graphviz) or use --format dot or mermaid"
        )
    try:
        done = subprocess.run(
            [program, "-Tsvg"],
            input=to_dot(picture).encode("utf-8"),
            capture_output=True,
            check=False,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UserError(f"--format svg: could not run {program!r}: {error}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UserError(
            f"--format svg: {program!r} failed: {message[0] if message else done.returncode}"
        )
    return done.stdout.decode("utf-8")
