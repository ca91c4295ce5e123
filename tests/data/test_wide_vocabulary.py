"""`data build --charset wide`: training faces' outlined characters, never a reserved one, capped."""

import pytest

from hieralign.data.fonts import discover_fonts
from hieralign.knowledge.charsets import charset
from hieralign.knowledge.protocols import reserved


def _ipa():
    faces = [f for f in discover_fonts() if f.canonical_family in ("IPA Gothic", "IPA Mincho")]
    if not faces:
        pytest.skip("IPA fonts not installed (apt-packages.txt)")
    return faces


def test_wide_charset_is_outlined_unreserved_and_known_classes_first():
    from hieralign.data.fonts import outlined_chars
    from hieralign.data.wide import wide_charset

    faces = _ipa()
    chars = wide_charset(faces)
    drawn = set().union(*(outlined_chars(f) for f in faces))
    assert len(chars) > 6000 and set(chars) <= drawn
    assert not set(chars) & set(reserved())
    assert len(set(chars)) == len(chars)
    known = set(charset("jis2-zs"))
    first_new = next(i for i, c in enumerate(chars) if c not in known)
    assert all(c not in known for c in chars[first_new:])  # the jis2-zs classes come first
    assert any(0x3400 <= ord(c) <= 0x4DBF for c in chars) or not any(0x3400 <= ord(c) <= 0x4DBF for c in drawn)
    assert wide_charset(faces, max_classes=100) == chars[:100]


def test_wide_charset_refuses_a_test_only_face():
    from hieralign.data.fonts import ROLE_TEST_ONLY
    from hieralign.data.wide import wide_charset

    test_only = [f for f in discover_fonts() if f.role == ROLE_TEST_ONLY]
    if not test_only:
        pytest.skip("no test-only family installed")
    with pytest.raises(ValueError, match="training families only"):
        wide_charset(_ipa() + test_only[:1])


def test_data_build_wide_store_trains_under_the_wide_protocol(tmp_path):
    from hieralign.data.build import main
    from hieralign.data.store import GlyphStore
    from hieralign.train.data import plan_classes

    _ipa()
    out = tmp_path / "wide"
    assert main(["--charset", "wide", "--max-classes", "40", "--styles", "printed", "--fonts", "IPA Gothic",
                 "--min-coverage", "0.5", "--workers", "1", "--out", str(out)]) == 0
    store = GlyphStore.open(out)
    assert len(store.charset) == 40 and store.meta["split"] == "jis2-zs-wide"
    plan = plan_classes("jis2-zs-wide", None, 5, 0, store.charset)
    assert len(plan.train_chars) + len(plan.val_chars) == 40 and plan.unseen_chars == reserved()
