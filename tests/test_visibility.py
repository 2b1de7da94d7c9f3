"""How much of an object shows: the silhouette projected through Blender's pinhole camera, checked by hand."""

import numpy as np
import pytest

from feint.render.visibility import silhouette_area, visible_fraction

# A 2 m square facing the camera, in its own coordinates (z = 0 plane).
SQUARE = np.array([[-1.0, -1.0, 0.0], [1.0, -1.0, 0.0], [1.0, 1.0, 0.0], [-1.0, 1.0, 0.0]])


def _placed(x: float = 0.0, y: float = 0.0, z: float = -10.0) -> np.ndarray:
    m = np.eye(4)
    m[:3, 3] = (x, y, z)
    return m


def test_a_square_ten_metres_ahead_covers_the_pixels_a_pinhole_predicts():
    # 50 mm on a 36 mm sensor 360 px wide: 500 px per unit of x/depth; 2 m at 10 m is 100 px a side.
    area = silhouette_area(SQUARE, _placed(), np.eye(4), 50.0, 36.0, 360, 240)
    assert area == pytest.approx(100.0 * 100.0, rel=1e-6)


def test_the_area_is_unclipped_by_the_frame_and_shrinks_with_distance():
    """Half outside the frame still counts whole (truncation is hidden area); at twice the distance,
    a quarter of the pixels; the square's vertical axis scales by the same pixels per unit as x."""
    far_right = silhouette_area(SQUARE, _placed(x=3.6), np.eye(4), 50.0, 36.0, 360, 240)
    assert far_right == pytest.approx(10000.0, rel=1e-6)
    twice = silhouette_area(SQUARE, _placed(z=-20.0), np.eye(4), 50.0, 36.0, 360, 240)
    assert twice == pytest.approx(2500.0, rel=1e-6)
    tall = silhouette_area(SQUARE * [1.0, 2.0, 1.0], _placed(), np.eye(4), 50.0, 36.0, 360, 240)
    assert tall == pytest.approx(20000.0, rel=1e-6)


def test_a_turned_camera_sees_the_object_it_faces():
    """The camera matrix is camera-to-world: turned 180 degrees about y it looks down +z."""
    turned = np.diag([-1.0, 1.0, -1.0, 1.0])
    assert silhouette_area(SQUARE, _placed(z=10.0), turned, 50.0, 36.0, 360, 240) == pytest.approx(10000.0)
    assert silhouette_area(SQUARE, _placed(z=-10.0), turned, 50.0, 36.0, 360, 240) is None


def test_no_silhouette_behind_the_camera_none_of_an_empty_or_edge_on_mesh():
    assert silhouette_area(SQUARE, _placed(z=10.0), np.eye(4), 50.0, 36.0, 360, 240) is None
    assert silhouette_area(np.zeros((0, 3)), _placed(), np.eye(4), 50.0, 36.0, 360, 240) == 0.0
    edge_on = SQUARE[:, [2, 1, 0]]  # the square in the y-z plane, seen from straight ahead: a line
    assert silhouette_area(edge_on, _placed(), np.eye(4), 50.0, 36.0, 360, 240) == 0.0


def test_visible_fraction_is_a_share_capped_at_one():
    assert visible_fraction(2500, 10000.0) == 0.25
    assert visible_fraction(12000, 10000.0) == 1.0
    assert visible_fraction(10, None) is None
    assert visible_fraction(10, 0.0) is None
