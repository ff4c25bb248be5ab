"""Target expressions: marks, names, tags, methods, regexes, errors."""
import pytest

from datamake.errors import UsageError
from datamake.graph.step_graph import build_graph
from datamake.graph.select import select
from stepkit import wf


@pytest.fixture
def sg(tmp_path):
    # 0 raw <- ; 1 clean <- raw ; 2 report <- clean (tag %r) ; 3 other <- (method m) ; 4 plot <- clean
    return build_graph(wf(str(tmp_path), (["raw.csv"], []), (["clean.csv"], ["raw.csv"]),
                          (["report.csv", "%r"], ["clean.csv"]), (["other.csv"], [], {"method": "m"}),
                          (["plot.png"], ["clean.csv"])))


def picked(sg, *targets):
    return [(s.index, s.forced, s.via) for s in select(sg, targets)]


def test_default_is_every_step(sg):
    assert picked(sg) == [(i, False, None) for i in range(5)]


def test_marks(sg):
    assert picked(sg, "report.csv") == [(0, False, None), (1, False, None), (2, False, None)]
    assert picked(sg, "=clean.csv") == [(1, False, None)]
    assert [i for i, *_ in picked(sg, "^clean.csv")] == [1, 2, 4]
    assert picked(sg, "+=clean.csv") == [(1, True, None)]
    assert picked(sg, "+clean.csv") == [(0, True, None), (1, True, None)]
    assert [i for i, *_ in picked(sg, "^raw.csv", "-report.csv")] == [4]
    assert [i for i, *_ in picked(sg, "-report.csv", "=plot.png")] == [4]


def test_names_tags_methods_regex(sg, tmp_path):
    assert picked(sg, f"={tmp_path}/x/../clean.csv") == [(1, False, None)]
    assert picked(sg, "=./clean.csv") == [(1, False, None)]
    assert picked(sg, "=%r") == [(2, False, "tag")]
    assert picked(sg, "%r")[-1] == (2, False, "tag") and picked(sg, "%r")[0] == (0, False, None)
    assert picked(sg, "m()") == [(3, False, "method")]
    assert [i for i, *_ in picked(sg, "=@^(raw|plot)")] == [0, 4]
    assert [i for i, *_ in picked(sg, "=...")] == [0, 1, 2, 3, 4]


def test_unknown_target_suggests(sg):
    with pytest.raises(UsageError) as err:
        select(sg, ["reprot.csv"])
    assert err.value.message == "target not found: reprot.csv"
    assert err.value.hint == "did you mean report.csv?"
