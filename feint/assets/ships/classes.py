"""Imports every ship class module; each registers its builder on import."""

from feint.assets.ships import (  # noqa: F401
    aircraft_carrier,
    bulkers,
    car_carrier,
    container_ship,
    cruise,
    ddg,
    recreational,
    sailboat,
    submarine,
    tug,
)
