#!/usr/bin/env python
"""Recompute the sea distances behind ``searoute_marnet_2026`` (inventories/sources.yaml): Indonesian nickel
parks to Chinese ports on Eurostat's MARNET maritime network, with the ``searoute`` package.

The inventories carry the result (4,300 km, Morowali to Ningbo, for the matte and MHP shipped to the Chinese
NiSO4 refineries); this script shows where it comes from. It needs ``searoute``, which the engine itself does not
(``pip install searoute==1.6.0``); it downloads nothing, the network ships inside the package.

Each route is the network length plus the great-circle leg from the jetty to the network's nearest node
(searoute snaps the origin to the network). Coordinates: OpenStreetMap (jetties, Ningbo-Beilun) and the UN/LOCODE
points of the package's own ports file (other ports).

Usage: python scripts/sea_distances.py [--json]
"""
from __future__ import annotations

import argparse
import json
import math
import sys

#: (longitude, latitude)
ORIGINS = {
    "Morowali, IMIP Labota jetty": (122.1871, -2.8606),
    "Weda Bay, IWIP jetty": (128.0055, 0.4745),
}
DESTINATIONS = {
    "Ningbo-Beilun": (121.8695, 29.9353),
    "Qinzhou (CNQZH)": (108.647, 21.68317),
    "Lianyungang (CNLYG)": (119.45, 34.733333),
    "Tianjin (CNTSN)": (117.744852, 38.986802),
}


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def routes() -> list[dict]:
    import searoute
    rows = []
    for o_name, o in ORIGINS.items():
        for d_name, d in DESTINATIONS.items():
            r = searoute.searoute(o, d, units="km")
            coords = r.geometry["coordinates"]
            network = float(r.properties["length"])
            access = great_circle_km(o, tuple(coords[0])) + great_circle_km(d, tuple(coords[-1]))
            rows.append({"from": o_name, "to": d_name, "network_km": network, "access_km": access,
                         "total_km": network + access})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = ap.parse_args()
    try:
        from importlib.metadata import version
        rows = routes()
    except ImportError:
        print("scripts/sea_distances.py: needs the searoute package: pip install searoute==1.6.0", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"searoute {version('searoute')}, MARNET network; km")
    print(f"{'from':30s} {'to':22s} {'network':>8s} {'access':>7s} {'total':>8s}")
    for r in rows:
        print(f"{r['from']:30s} {r['to']:22s} {r['network_km']:8.0f} {r['access_km']:7.0f} {r['total_km']:8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
