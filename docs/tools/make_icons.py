"""Draw the PWA icons (pwa/icons/*.png) with the standard library only.

Shapes are signed distance functions; each pixel's coverage is the distance
clamped to one pixel, which gives anti-aliased edges without supersampling.
Run: python docs/tools/make_icons.py
"""

import math
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "pwa" / "icons"

NAVY = (18, 51, 92)
WHITE = (255, 255, 255)
GREEN = (21, 128, 61)


def sd_round_rect(x, y, x0, y0, x1, y1, r):
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hx, hy = (x1 - x0) / 2 - r, (y1 - y0) / 2 - r
    qx, qy = abs(x - cx) - hx, abs(y - cy) - hy
    outside = math.hypot(max(qx, 0), max(qy, 0))
    return outside + min(max(qx, qy), 0) - r


def sd_segment(x, y, ax, ay, bx, by, r):
    px, py, vx, vy = x - ax, y - ay, bx - ax, by - ay
    t = max(0.0, min(1.0, (px * vx + py * vy) / (vx * vx + vy * vy)))
    return math.hypot(px - vx * t, py - vy * t) - r


def sd_triangle(x, y, pts):
    # Negative inside: max of the three half-plane distances (good enough near edges).
    d = -1e9
    n = len(pts)
    area = sum(pts[i][0] * pts[(i + 1) % n][1] - pts[(i + 1) % n][0] * pts[i][1] for i in range(n))
    flip = -1 if area < 0 else 1
    for i in range(n):
        (ax, ay), (bx, by) = pts[i], pts[(i + 1) % n]
        ex, ey = bx - ax, by - ay
        ln = math.hypot(ex, ey)
        nx, ny = flip * ey / ln, -flip * ex / ln  # outward normal
        d = max(d, (x - ax) * nx + (y - ay) * ny)
    return d


CHART = [(0.29, 0.55), (0.42, 0.43), (0.52, 0.50), (0.70, 0.32)]


def draw(size, maskable):
    scale = 0.74 if maskable else 1.0
    px = 1.0 / size
    rows = []
    for j in range(size):
        row = bytearray([0])
        for i in range(size):
            ux, uy = (i + 0.5) / size, (j + 0.5) / size
            # content coordinates (maskable: shrink the art into the safe zone)
            x, y = 0.5 + (ux - 0.5) / scale, 0.5 + (uy - 0.5) / scale
            p = px / scale
            if maskable:
                bg_a = 1.0
            else:
                bg_a = min(
                    1.0, max(0.0, 0.5 - sd_round_rect(ux, uy, 0.0, 0.0, 1.0, 1.0, 0.22) / px)
                )
            bubble = min(
                sd_round_rect(x, y, 0.18, 0.20, 0.82, 0.68, 0.11),
                sd_triangle(x, y, [(0.30, 0.64), (0.26, 0.83), (0.46, 0.64)]),
            )
            a_bubble = min(1.0, max(0.0, 0.5 - bubble / p))
            line = min(
                sd_segment(x, y, *CHART[k], *CHART[k + 1], 0.026) for k in range(len(CHART) - 1)
            )
            line = min(line, math.hypot(x - CHART[-1][0], y - CHART[-1][1]) - 0.045)
            a_line = min(1.0, max(0.0, 0.5 - line / p)) * (a_bubble > 0)
            col = NAVY
            col = tuple(c0 + (c1 - c0) * a_bubble for c0, c1 in zip(col, WHITE, strict=True))
            col = tuple(c0 + (c1 - c0) * a_line for c0, c1 in zip(col, GREEN, strict=True))
            row += bytes((round(col[0]), round(col[1]), round(col[2]), round(255 * bg_a)))
        rows.append(bytes(row))
    return png(size, size, b"".join(rows), alpha=True)


def png(w, h, raw, alpha):
    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6 if alpha else 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def opaque(size):
    """Apple touch icon: no transparency (iOS fills it black otherwise)."""
    data = draw(size, maskable=True)
    return data


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    outputs = {
        "icon-192.png": draw(192, False),
        "icon-512.png": draw(512, False),
        "maskable-192.png": draw(192, True),
        "maskable-512.png": draw(512, True),
        "apple-touch-icon.png": opaque(180),
    }
    for name, data in outputs.items():
        (OUT / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
