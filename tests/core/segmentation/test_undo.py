"""Edits and the undo stack: bit-exact undo/redo, compact records, memory cap, mirrorable index."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearttwin.core.errors import InputError
from hearttwin.core.imaging.volume import Volume
from hearttwin.core.segmentation import editing as ed
from hearttwin.core.segmentation.undo import Changes, Edit, UndoStack

SHAPE = (16, 20, 18)
SPACING = (0.8, 0.6, 1.5)


def base_map(seed=0) -> Volume:
    rng = np.random.default_rng(seed)
    arr = np.zeros(SHAPE, np.uint8)
    arr[3:10, 4:14, 5:12] = 1
    arr[8:14, 10:18, 2:9] = 2
    arr[rng.random(SHAPE) < 0.02] = 3  # speckle: islands for the island ops
    return Volume(arr, SPACING, (5.0, -3.0, 12.0))


def test_changes_sparse_use_indices_dense_use_bits_and_both_are_exact():
    before = np.zeros((30, 30, 30), np.uint8)
    sparse = before.copy()
    sparse[2, 3, 4], sparse[20, 25, 28] = 7, 9
    dense = before.copy()
    dense[5:25, 5:25, 5:25] = 4
    for after, packed in ((sparse, False), (dense, True)):
        c = Changes.from_arrays(before.shape, (0, 30, 0, 30, 0, 30), before, after)
        assert c.packed is packed
        assert c.count == np.count_nonzero(before != after)
        assert c.nbytes < 3 * c.count + 200 or c.nbytes < after.size // 8 + 2 * c.count + 200
        work = before.copy()
        edit = Edit("x", {}, c)
        edit.apply(work)
        assert np.array_equal(work, after)
        edit.revert(work)
        assert np.array_equal(work, before)


def test_edit_refuses_a_map_of_another_shape():
    vol = base_map()
    edit = ed.paint(vol, vol.index_to_lps([9, 10, 8]), 3.0, 5)
    with pytest.raises(InputError):
        edit.revert(np.zeros((5, 5, 5), np.uint8))


def test_stack_undo_redo_index_and_redo_cleared_on_push():
    vol = base_map()
    original = vol.array.copy()
    stack = UndoStack()
    assert not stack.can_undo() and not stack.can_redo() and stack.index == 0
    e1 = ed.paint(vol, vol.index_to_lps([9, 10, 8]), 3.0, 5)
    stack.push(e1)
    after1 = vol.array.copy()
    e2 = ed.grow(vol, 1, 1.0)
    stack.push(e2)
    assert stack.index == 2 and stack.undo_text() == "grow"
    assert stack.undo(vol) is e2 and np.array_equal(vol.array, after1)
    assert stack.undo(vol) is e1 and np.array_equal(vol.array, original)
    assert stack.index == 0 and stack.can_redo() and stack.redo_text() == "paint"
    with pytest.raises(InputError):
        stack.undo(vol)
    stack.redo(vol)
    assert np.array_equal(vol.array, after1) and stack.index == 1
    e3 = ed.relabel(vol, 2, 4)
    stack.push(e3)  # the undone grow can no longer be redone
    assert stack.index == 2 and len(stack) == 2 and not stack.can_redo()
    with pytest.raises(InputError):
        stack.redo(vol)


def test_memory_cap_drops_the_oldest_edits():
    vol = Volume(np.zeros((20, 40, 40), np.uint8), (1.0, 1.0, 1.0))
    stack = UndoStack(max_bytes=5000)
    for n in range(6):
        stack.push(ed.paint(vol, vol.index_to_lps([20, 20, 10]), 2.0 + n, 1 + n))
    assert stack.nbytes <= 5000 or len(stack) == 1
    assert stack.dropped + len(stack) == 6 and stack.index == len(stack)
    assert stack.edits[-1].params["label"] == 6
    huge = UndoStack(max_bytes=10)
    huge.push(ed.paint(vol, vol.index_to_lps([20, 20, 10]), 8.0, 2))
    assert len(huge) == 1  # the newest edit is always kept


OPS = st.sampled_from(["paint", "erase", "threshold", "grow", "shrink", "smooth", "fill", "islands",
                       "largest", "split", "relabel"])


def run_op(vol, image, op, a, b, c):
    centre = vol.index_to_lps([a % 18, b % 20, c % 16])
    label = 1 + a % 3
    if op == "paint":
        return ed.paint(vol, centre, 1.0 + b % 4, 1 + c % 4, only=None if a % 2 else 0)
    if op == "erase":
        return ed.erase(vol, centre, 1.0 + b % 3)
    if op == "threshold":
        return ed.threshold(vol, image, label, -200 + 40 * b, -150 + 40 * b + 60 * c, within=0 if a % 2 else None)
    if op == "grow":
        return ed.grow(vol, label, 0.5 + b % 3, only=None if c % 2 else 0)
    if op == "shrink":
        return ed.shrink(vol, label, 0.5 + b % 2)
    if op == "smooth":
        return ed.smooth(vol, label, 0.8 + b % 2, method=ed.SMOOTHING_METHODS[c % 4])
    if op == "fill":
        return ed.fill_holes(vol, label, slice_wise=bool(b % 2))
    if op == "islands":
        return ed.remove_small_islands(vol, 0.002 * b, connectivity=6 if c % 2 else 26)
    if op == "largest":
        return ed.keep_largest_island(vol, None if b % 2 else label)
    if op == "split":
        return ed.split_plane(vol, label, centre, [1, b - 10, c - 8], 10 + a % 3)
    return ed.relabel(vol, label, (b % 4) + 1 if b % 4 + 1 != label else 0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 3),
       steps=st.lists(st.tuples(OPS, st.integers(0, 20), st.integers(0, 20), st.integers(0, 20)),
                      min_size=1, max_size=8),
       undo_some=st.integers(0, 8))
def test_random_edit_sequences_undo_and_redo_exactly(seed, steps, undo_some):
    vol = base_map(seed)
    image = Volume(np.random.default_rng(seed).integers(-500, 900, SHAPE).astype(np.int16), SPACING)
    original = vol.array.copy()
    stack = UndoStack()
    states = [original.copy()]
    for op, a, b, c in steps:
        stack.push(run_op(vol, image, op, a, b, c))
        states.append(vol.array.copy())
    final = vol.array.copy()
    # partial undo lands on the matching intermediate state
    k = min(undo_some, len(steps))
    for _ in range(k):
        stack.undo(vol)
    assert np.array_equal(vol.array, states[len(steps) - k])
    while stack.can_undo():
        stack.undo(vol)
    assert np.array_equal(vol.array, original)
    while stack.can_redo():
        stack.redo(vol)
    assert np.array_equal(vol.array, final)
    assert stack.index == len(steps)
