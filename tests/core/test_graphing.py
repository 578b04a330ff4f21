"""Pictures of a neighbourhood: structure, escaping, depth, as_of, SVG, and the command."""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from partygraph import Toolkit
from partygraph.cli import main
from partygraph.errors import UserError
from partygraph.graphing import (
    GraphEdge,
    GraphNode,
    Neighbourhood,
    neighbourhood,
    to_dot,
    to_mermaid,
    to_svg,
)
from plugins_for_tests import Basics

Factory = Callable[..., Toolkit]
TRICKY = 'Zoë "Z" <Fox> [#1] | Ø'


@pytest.fixture
def world(make_toolkit: Factory) -> Toolkit:
    """A household of three (one with a tricky name), a job that ended, purchases."""
    toolkit = make_toolkit({"basics": Basics})
    toolkit.upsert_party("home", "household", "Fox household")
    toolkit.upsert_party("zoe", "person", TRICKY)
    toolkit.upsert_party("max", "person", "Max Fox")
    toolkit.upsert_party("kid", "person", "Kid Fox")
    toolkit.upsert_party("acme", "organization", "Acme")
    toolkit.upsert_party("friend", "person", "Far Friend")
    toolkit.relate("zoe", "home", "member_of", role="head", valid_from="2020-01-01")
    toolkit.relate("max", "home", "member_of", role="partner", valid_from="2020-01-01")
    toolkit.relate("kid", "home", "member_of", role="dependent", valid_from="2020-01-01")
    toolkit.relate("zoe", "acme", "works_for", valid_from="2018-01-01", valid_to="2025-06-01")
    toolkit.relate("max", "friend", "knows", valid_from="2021-01-01")
    for day in range(1, 5):
        toolkit.record_interaction(
            "purchase",
            f"2026-03-0{day}T10:00:00Z",
            [("zoe", "purchaser"), ("kid", "consumer")],
            {"amount": 10 * day},
        )
    return toolkit


def _node_ids(picture: Neighbourhood) -> dict[str, str]:
    """Node id by the party's name (first line of its label), or 'interaction:<date>'."""
    found = {}
    for node in picture.nodes:
        head, detail = node.label.split("\n")
        found[f"interaction:{detail}" if node.interaction else head] = node.id
    return found


def test_mermaid_draws_relationships_and_interactions_with_roles(world: Toolkit) -> None:
    picture = neighbourhood(world, "home", as_of="2026-04-01", interactions=2)
    ids = _node_ids(picture)
    text = to_mermaid(picture)
    assert text.startswith("flowchart LR\n")
    home, max_, kid = ids["Fox household"], ids["Max Fox"], ids["Kid Fox"]
    assert f'{max_} -->|"member of: partner"| {home}' in text
    assert f'{kid} -->|"member of: dependent"| {home}' in text
    assert f'{home}["Fox household<br/>household · home"]' in text  # a box for a group
    assert f'{max_}("Max Fox<br/>person · max")' in text  # rounded for a person
    # The household takes part in no interaction: depth 1 draws none.
    assert not [node for node in picture.nodes if node.interaction]
    assert f"class {home} root" in text


def test_interactions_link_their_participants_in_their_roles(world: Toolkit) -> None:
    picture = neighbourhood(world, "kid", as_of="2026-04-01", interactions=2)
    ids = _node_ids(picture)
    interactions = sorted(key for key in ids if key.startswith("interaction:"))
    # The two most recent purchases only.
    assert interactions == ["interaction:2026-03-03", "interaction:2026-03-04"]
    text = to_mermaid(picture)
    latest = ids["interaction:2026-03-04"]
    assert f'{latest}{{{{"purchase<br/>2026-03-04"}}}}' in text
    assert f'{ids["Kid Fox"]} -.->|"consumer"| {latest}' in text
    zoe = ids[TRICKY]
    assert f'{zoe} -.->|"purchaser"| {latest}' in text


def test_labels_are_escaped_for_mermaid_and_dot(world: Toolkit) -> None:
    picture = neighbourhood(world, "zoe", as_of="2026-04-01")
    mermaid = to_mermaid(picture)
    assert "Zoë #quot;Z#quot; #lt;Fox#gt; [#35;1] #124; Ø" in mermaid
    assert TRICKY not in mermaid
    # Every node line is well formed: an id, an opening shape, one quoted label.
    for line in mermaid.splitlines()[1:]:
        if line.strip().startswith(("class", "classDef")) or "->" in line:
            continue
        assert re.fullmatch(r'    [pi]\d+(\(|\[|\{\{)"[^"]*"(\)|\]|\}\})', line), line
    dot = to_dot(picture)
    assert 'label="Zoë \\"Z\\" <Fox> [#1] | Ø\\nperson · zoe"' in dot
    assert dot.startswith("digraph neighbourhood {")
    assert dot.rstrip().endswith("}")


def _dot_unquote(quoted: str) -> str:
    assert quoted.startswith('"')
    assert quoted.endswith('"')
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), quoted[1:-1])


#: Labels that have broken pictures elsewhere: every ASCII character, control characters,
#: unicode line separators, quotes, backticks, backslashes, entity look-alikes, emoji.
LABELS = [
    "".join(chr(code) for code in range(128)),
    'say "hi" to `them` \\n not a newline',
    "line one\nline two\r\nline three\u2028four\x85five\x1esix",
    "#quot; &amp; %% comment ;end",
    "👩‍👩‍👧 Ⅻ Zoë Ø 東京",
    "",
]


@pytest.mark.parametrize("label", LABELS)
def test_any_label_stays_inside_its_quotes(label: str) -> None:
    node = GraphNode("p1", label, "person")
    picture = Neighbourhood(
        "p1", datetime(2026, 1, 1, tzinfo=UTC), (node,), (GraphEdge("p1", "p1", label),)
    )
    mermaid = to_mermaid(picture).splitlines()
    node_line, edge_line = mermaid[1], mermaid[2]
    assert re.fullmatch(r'    p1\("[^"`\n\r]*"\)', node_line)
    assert re.fullmatch(r'    p1 -->\|"[^"|`\n\r]*"\| p1', edge_line)
    dot = to_dot(picture)
    (quoted,) = re.findall(r'p1 \[label=("(?:[^"\\]|\\.)*"),', dot)
    visible = "".join(
        " " if char != "\n" and unicodedata.category(char) in {"Cc", "Zl", "Zp"} else char
        for char in label.replace("\r\n", "\n")
    )
    assert _dot_unquote(quoted) == visible


def test_dot_structure(world: Toolkit) -> None:
    picture = neighbourhood(world, "home", as_of="2026-04-01")
    ids = _node_ids(picture)
    dot = to_dot(picture)
    assert f'{ids["Max Fox"]} -> {ids["Fox household"]} [label="member of: partner"];' in dot
    assert f"{ids['Fox household']} [label=" in dot
    assert "penwidth=3" in dot
    assert dot.count(" -> ") == len(picture.edges)


def test_depth_walks_further(world: Toolkit) -> None:
    names = {
        depth: set(_node_ids(neighbourhood(world, "home", depth=depth, as_of="2026-04-01")))
        for depth in (0, 1, 2)
    }
    assert names[0] == {"Fox household"}
    assert names[1] == {"Fox household", TRICKY, "Max Fox", "Kid Fox"}
    # Two steps away: Max's friend and the purchases of Zoë and the kid.
    assert {"Far Friend", "interaction:2026-03-04"} <= names[2]
    with pytest.raises(UserError, match="depth"):
        neighbourhood(world, "home", depth=-1)


def test_as_of_respects_ended_relationships(world: Toolkit) -> None:
    during = _node_ids(neighbourhood(world, "zoe", as_of="2024-01-01", interactions=0))
    after = _node_ids(neighbourhood(world, "zoe", as_of="2026-04-01", interactions=0))
    assert "Acme" in during
    assert "Acme" not in after
    # Nothing that happened after as_of is drawn.
    before_purchases = neighbourhood(world, "zoe", as_of="2026-03-02T12:00:00Z")
    dates = {node.label for node in before_purchases.nodes if node.interaction}
    assert dates == {"purchase\n2026-03-01", "purchase\n2026-03-02"}


@pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz's 'dot' is not on PATH (Debian package graphviz); SVG needs it",
)
def test_svg_through_graphviz(world: Toolkit) -> None:
    svg = to_svg(neighbourhood(world, "home", as_of="2026-04-01"))
    assert svg.lstrip().startswith("<?xml")
    assert "<svg" in svg
    assert "Fox household" in svg
    assert "member of: partner" in svg


def test_svg_without_graphviz_is_a_user_error(
    world: Toolkit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    picture = neighbourhood(world, "home", as_of="2026-04-01")
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no Graphviz
    with pytest.raises(UserError, match="'dot' program is not on PATH"):
        to_svg(picture)


def test_graph_command(
    world: Toolkit,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "graph.json"
    url = world.config.database_url
    config.write_text(f'{{"database": {{"url": "{url}"}}, "plugins": {{"enabled": []}}}}')
    base = ["--config", str(config), "graph"]
    assert main([*base, "home", "--as-of", "2026-04-01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("flowchart LR")
    assert "Fox household" in out
    target = tmp_path / "home.dot"
    assert main([*base, "home", "--format", "dot", "--output", str(target)]) == 0
    assert target.read_text().startswith("digraph")
    assert main([*base, "home", "--as-of", "2026-04-01", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["root"] in {node["id"] for node in data["nodes"]}
    assert {"member of: partner", "member of: dependent"} <= {e["label"] for e in data["edges"]}
    assert main([*base, "nobody"]) == 2
    assert "nobody" in capsys.readouterr().err
    assert main([*base, "home", "--as-of", "yesterday"]) == 2
    assert "--as-of" in capsys.readouterr().err
    monkeypatch.setenv("PATH", str(tmp_path))  # no Graphviz
    assert main([*base, "home", "--format", "svg"]) == 2
    assert "dot" in capsys.readouterr().err
