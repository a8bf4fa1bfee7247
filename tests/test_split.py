from conftest import make_roll

from bachgan.io.corpus import _label, _select_split, bach_chorale_paths
from bachgan.io.split import group_pieces, heldout_names, make_split, name_key

TUNE = [(0, p, i * 4, 4) for i, p in enumerate([60, 62, 64, 65, 67, 65, 64, 62, 60, 59])]


def test_versions_and_transposed_tunes_share_a_group():
    tune = make_roll(TUNE, n_steps=48)
    transposed = tune.transpose(5)
    other = make_roll(
        [(0, p, i * 4, 4) for i, p in enumerate([60, 67, 60, 67, 60, 67, 60, 67, 60, 67])],
        n_steps=48,
    )
    names = [
        "music21:bach/bwv1.6.mxl",
        "music21:bach/bwv99.1.mxl",
        "music21:bach/bwv7.7.mxl",
        "music21:bach/bwv7.7-sc.mxl",
    ]
    groups = group_pieces([tune, transposed, other, other.transpose(2)], names)
    assert groups[0] == groups[1]  # same melody in another key, unrelated name
    assert groups[2] == groups[3]  # same name once the suffix is removed
    assert groups[0] != groups[2]


def test_split_takes_whole_groups():
    tune = make_roll(TUNE, n_steps=48)
    rolls = [tune, tune.transpose(2), make_roll([(0, 60, 0, 4)], 16)]
    names = ["bwv1.mxl", "bwv2.mxl", "bwv3.mxl"]
    heldout = make_split(rolls, names, fraction=0.3, seed=0)
    assert heldout in (["bwv1.mxl", "bwv2.mxl"], ["bwv3.mxl"])


def test_shipped_split_keeps_related_names_apart():
    heldout = heldout_names()
    paths = bach_chorale_paths()
    assert 30 <= len(heldout) <= 40 and heldout <= {_label(p) for p in paths}
    training = {name_key(_label(p)) for p in _select_split(paths, "train")}
    assert {_label(p) for p in _select_split(paths, "heldout")} == heldout
    assert not {name_key(n) for n in heldout} & training
