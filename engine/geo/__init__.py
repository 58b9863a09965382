"""The city's geography: its boundary and districts (GeoJSON, checked by `komunikator check`) and its address points.

- `shapes.py`: the compiled boundary and districts (`Geography`): is a point in the city, in which district;
- `geojson_check.py`: reading and checking the GeoJSON files a tenant names (`tenant.geography`);
- `address_csv.py`: reading address points from a CSV in the layout of Poland's PRG exports;
- `projection.py`: PUWG 1992 (EPSG:2180) to WGS84, the one module that talks to pyproj;
- `distance.py`: metres between two points on the sphere.

shapely is imported only here, and only when a city has geography.
"""
