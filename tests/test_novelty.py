"""The nearest-take distance: a copy of a training take, moved and turned, is at 0; another
motion is not."""

from __future__ import annotations

import numpy as np

from motiongen.canonical import rotate_y
from motiongen.data.synthetic import synth_sequence
from motiongen.eval.novelty import nearest_take


def test_a_moved_and_turned_stretch_of_a_take_is_at_no_distance():
    take = synth_sequence(["walk"], seconds=4.0, seed=1).positions.astype(np.float64)
    stretch = rotate_y(take[10:50], np.deg2rad(70.0)) + [2.0, 0.0, -1.0]
    assert nearest_take(stretch, [take]) < 1e-4  # its start, 10 frames in, is tried (hop 5)
    other = synth_sequence(["wave"], seconds=2.0, seed=2).positions
    assert nearest_take(other, [take]) > 0.02
    assert nearest_take(other, [take, other]) < 1e-4  # the nearest of several
    assert nearest_take(other, []) == np.inf
