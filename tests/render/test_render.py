"""Offscreen rendering: real pixels (background, label colours), orientation, views, device colours."""

import os

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")

import dataclasses  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from hearttwin.core.errors import InputError, ProcessingError  # noqa: E402
from hearttwin.core.imaging.volume import Volume  # noqa: E402
from hearttwin.core.resources import load_json  # noqa: E402
from hearttwin.render import (  # noqa: E402
    DEVICE_RGB, PENETRATION_RGB, anterior, build_scene, c_arm_label, check_image, coplanar,
    device_mesh, device_penetration, en_face, label_rgb, penetration_rgb, png_bytes, render,
    standard_views,
)

BG = (10, 20, 40)
SIZE = (160, 120)


def _balls(centres_labels, shape=(40, 40, 40), radius=6.0):
    """Label map (z, y, x) with balls at LPS (x, y, z) centres; spacing 1 mm, origin 0."""
    z, y, x = np.indices(shape)
    arr = np.zeros(shape, np.uint8)
    for (cx, cy, cz), label in centres_labels:
        arr[(x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2 <= radius ** 2] = label
    return Volume(arr, (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), np.eye(3))


def _close(pixel, rgb, tol=3):
    return np.abs(np.asarray(pixel, int) - np.asarray(rgb, int)).max() <= tol


def test_label_colours_come_from_resources():
    table = {e["label"]: tuple(e["colour"]) for e in load_json("labels.json")["labels"]}
    assert all(label_rgb(k) == v for k, v in table.items())
    assert label_rgb(12) == label_rgb(12) and label_rgb(12) not in (None, ())


def test_penetration_colour_ramp():
    rgb = penetration_rgb([0.0, -1.0, np.nan, 1.5, 3.0, 10.0])
    assert tuple(rgb[0]) == DEVICE_RGB and tuple(rgb[1]) == DEVICE_RGB and tuple(rgb[2]) == DEVICE_RGB
    assert tuple(rgb[4]) == PENETRATION_RGB and tuple(rgb[5]) == PENETRATION_RGB
    mid = (np.asarray(DEVICE_RGB) + np.asarray(PENETRATION_RGB)) / 2
    assert np.abs(rgb[3] - mid).max() <= 0.5


def test_flat_render_background_and_label_colour():
    scene = build_scene(_balls([((20, 20, 20), 6)]), flat=True)
    image = render(scene, anterior(scene), size=SIZE, background=BG)
    assert image.shape == (SIZE[1], SIZE[0], 3) and image.dtype == np.uint8
    assert tuple(image[0, 0]) == BG and tuple(image[-1, -1]) == BG
    assert _close(image[SIZE[1] // 2, SIZE[0] // 2], label_rgb(6))
    # the ball fills about the framed share of the image, not the whole frame
    is_ball = np.all(np.abs(image.astype(int) - label_rgb(6)) <= 3, axis=-1)
    assert 0.2 < is_ball.mean() < 0.8


def test_anterior_view_orientation():
    """Patient's left (+x) on the image right, head (+z) at the top, as on an AP view."""
    labels = _balls([((30, 20, 20), 1), ((10, 20, 20), 2), ((20, 20, 33), 3)], radius=5.0)
    scene = build_scene(labels, flat=True)
    image = render(scene, anterior(scene), size=SIZE, background=BG)

    def centroid(label):
        mask = np.all(np.abs(image.astype(int) - label_rgb(label)) <= 3, axis=-1)
        assert mask.sum() > 20, f"label {label} not visible"
        rows, cols = np.nonzero(mask)
        return rows.mean(), cols.mean()

    (r1, c1), (r2, c2), (r3, _) = centroid(1), centroid(2), centroid(3)
    assert c1 > c2 + 20  # left ball (label 1, +x) right of the right ball (label 2)
    assert r3 < min(r1, r2) - 10  # superior ball above both


def test_offscreen_state_restored_after_cutaway(plan_case):
    labels, plan, measurements = plan_case
    scene = build_scene(labels, plan, flat=True)
    view = coplanar(scene, measurements)
    opacities = {k: a.GetProperty().GetOpacity() for k, a in scene.anatomy.items()}
    render(scene, dataclasses.replace(view, anatomy_opacity=0.5), size=SIZE)
    assert {k: a.GetProperty().GetOpacity() for k, a in scene.anatomy.items()} == opacities
    assert all(a.GetMapper().GetClippingPlanes() is None or a.GetMapper().GetClippingPlanes().GetNumberOfItems() == 0
               for a in scene.anatomy.values())


@pytest.fixture(scope="module")
def plan_case():
    from hearttwin.core.anatomy import measure_all
    from hearttwin.core.devices.plan import plan_static
    from hearttwin.core.phantom.generate import generate_phantom
    from hearttwin.core.phantom.params import PhantomParams

    p = generate_phantom(PhantomParams.sample(2, "small")).phases[0]
    m = measure_all(p.labels, p.image)
    return p.labels, plan_static(p.labels, device_id="thv-balloon", measurements=m), m


def _on_device_ramp(pixel, tol=4.0):
    """Distance of a colour from the device colour ramp (grey -> red)."""
    a, b = np.asarray(DEVICE_RGB, float), np.asarray(PENETRATION_RGB, float)
    t = np.clip(np.dot(pixel - a, b - a) / np.dot(b - a, b - a), 0, 1)
    return float(np.linalg.norm(pixel - (a + t * (b - a)))) <= tol


def test_cutaway_views_show_the_device_inside_the_anatomy(plan_case):
    labels, plan, measurements = plan_case
    scene = build_scene(labels, plan, flat=True)
    for view in (coplanar(scene, measurements), en_face(scene)):
        cut = render(scene, view, size=SIZE)
        centre = cut[SIZE[1] // 2, SIZE[0] // 2].astype(float)
        assert _on_device_ramp(centre), (view.name, centre)
        whole = render(scene, dataclasses.replace(view, cutaway=False, labels=None), size=SIZE)
        covered = whole[SIZE[1] // 2, SIZE[0] // 2].astype(float)
        assert not _on_device_ramp(covered)  # without the cut the anatomy hides the device
        assert tuple(cut[0, 0]) == (255, 255, 255) or tuple(cut[-1, 0]) == (255, 255, 255)


def test_view_directions(plan_case):
    labels, plan, measurements = plan_case
    scene = build_scene(labels, plan, surfaces={})
    axis = np.asarray(plan["pose_lps"])[:3, 2]
    views = {v.name: v for v in standard_views(scene, measurements)}
    assert set(views) == {"anterior", "coplanar", "en_face"}
    cop = views["coplanar"].direction_lps
    assert abs(np.dot(cop, axis)) < 1e-6 and abs(np.linalg.norm(cop) - 1) < 1e-9
    measured = np.asarray(measurements["coplanar_view"]["recommended"]["detector_direction_lps"], float)
    assert np.dot(cop, measured / np.linalg.norm(measured)) > 0.95  # the device is near-coaxial here
    assert np.allclose(views["en_face"].direction_lps, axis / np.linalg.norm(axis))
    assert np.allclose(views["anterior"].direction_lps, [0, -1, 0])
    assert c_arm_label([0, -1, 0]) == "LAO 0 CRA 0"
    assert c_arm_label([np.sin(np.radians(30)), -np.cos(np.radians(30)), 0]) == "LAO 30 CRA 0"


def test_device_penetration_grows_when_pushed_into_the_wall(plan_case):
    labels, plan, _ = plan_case
    mesh = device_mesh(plan)
    pen = device_penetration(labels, plan, mesh.points)
    assert pen.shape == (len(mesh.points),) and pen.min() >= 0
    moved = dict(plan)
    pose = np.asarray(plan["pose_lps"], float).copy()
    pose[:3, 3] += 4.0 * pose[:3, 0]  # 4 mm sideways
    moved["pose_lps"] = pose.tolist()
    pushed = device_penetration(labels, moved, device_mesh(moved).points)
    # vertices facing the push go deeper into the wall, those facing away come out of it
    frame = np.asarray(plan["pose_lps"], float)
    rel = mesh.points - frame[:3, 3]
    side = rel @ frame[:3, 0]
    radius = np.linalg.norm(rel - np.outer(rel @ frame[:3, 2], frame[:3, 2]), axis=1)
    ahead, behind = side > 0.8 * radius.max(), side < -0.8 * radius.max()
    assert ahead.sum() > 20 and behind.sum() > 20
    assert pushed[ahead].mean() > pen[ahead].mean() + 0.75  # the sinuses leave room above the annulus
    assert pushed[behind].mean() < pen[behind].mean()


def test_views_need_a_device():
    scene = build_scene(_balls([((20, 20, 20), 6)]))
    assert [v.name for v in standard_views(scene)] == ["anterior"]
    with pytest.raises(InputError):
        coplanar(scene)


def test_png_round_trip_and_garbage_check():
    import io

    from matplotlib.image import imread

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    data = png_bytes(image)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    back = np.rint(imread(io.BytesIO(data), format="png")[:, :, :3] * 255).astype(np.uint8)
    assert np.array_equal(back, image)
    with pytest.raises(ProcessingError):
        check_image(image, background=(255, 255, 255))  # noise: no background border
    with pytest.raises(ProcessingError):
        check_image(np.full((30, 40, 3), 255, np.uint8), background=(255, 255, 255))  # blank
