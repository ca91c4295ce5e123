from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hieralign.knowledge.svgpath import parse_path, path_polyline, resample

GOLDEN = Path(__file__).parent / "data" / "kanjivg_strokes_golden.npz"


def test_absolute_and_relative_lines():
    poly = path_polyline("M10,10 L20,10 l0,10 H0 v-5 h5 V0", samples_per_curve=4)
    assert np.allclose(poly, [[10, 10], [20, 10], [20, 20], [0, 20], [0, 15], [5, 15], [5, 0]])


def test_cubic_endpoints_and_packed_numbers():
    # relative cubic with numbers packed KanjiVG-style ("-1.5-2" and ".5.5")
    poly = path_polyline("M1,2c1-1.5,2-2,3-3c.5.5,1,1,1,2", samples_per_curve=8)
    assert len(poly) == 1 + 8 + 8
    assert np.allclose(poly[0], [1, 2]) and np.allclose(poly[8], [4, -1]) and np.allclose(poly[-1], [5, 1])


def test_smooth_cubic_reflects_control_point():
    a = path_polyline("M0,0 C0,10 10,10 10,0 S20,-10 20,0", 16)
    b = path_polyline("M0,0 C0,10 10,10 10,0 C10,-10 20,-10 20,0", 16)
    assert np.allclose(a, b)


def test_quadratic_and_close():
    poly = path_polyline("M0,0 Q5,10 10,0 Z", 4)
    assert np.allclose(poly[-1], [0, 0]) and poly[:, 1].max() > 4.0
    assert len(parse_path("M0,0 L1,1 M5,5 L6,6")) == 2
    assert np.allclose(path_polyline("M0,0 1,1 2,0", 4), [[0, 0], [1, 1], [2, 0]])  # implicit line-tos


def test_arcs_are_sampled_on_the_circle():
    poly = path_polyline("M0,0 A5,5 0 0 1 10,0", 8)
    assert len(poly) == 9 and np.allclose(poly[-1], [10, 0])
    assert np.allclose(np.linalg.norm(poly - [5, 0], axis=1), 5.0)


def test_errors():
    with pytest.raises(ValueError, match="lacks numbers"):
        path_polyline("M0,0 C1,1 2,2")
    with pytest.raises(ValueError, match="no drawing"):
        path_polyline("")
    with pytest.raises(ValueError, match="before the first command"):
        path_polyline("5,5 L1,1")
    with pytest.raises(ValueError, match="not path data"):
        path_polyline("M0,0 X 5")


def test_matches_the_replaced_parser_on_kanjivg_strokes():
    """300 KanjiVG strokes (every 67th file, every 3rd stroke) as the hand-written parser that
    svgelements replaced sampled them; the golden file was written by that parser before its removal."""
    golden = np.load(GOLDEN)
    starts = np.concatenate([[0], np.cumsum(golden["lengths"])])
    for k, d in enumerate(golden["d"]):
        want = golden["points"][starts[k]:starts[k + 1]]
        got = path_polyline(str(d))
        assert got.shape == want.shape, d
        assert np.abs(got - want).max() < 1e-9, d  # in the 109-unit KanjiVG box


def test_resample_even_spacing():
    pts = resample(np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]), 5)
    assert np.allclose(pts, [[0, 0], [0.5, 0], [1, 0], [1, 0.5], [1, 1]])
    assert resample(np.array([[2.0, 3.0]]), 3).shape == (3, 2)
