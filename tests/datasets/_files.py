"""Writers of small RRUFF-format files for the tests (LF/CRLF, UTF-8, DIF).

Also a reference pseudo-Voigt peak, computed independently of sktransfer.
"""

import numpy as np

HEADER = (
    "##NAMES={species}\n"
    "##RRUFFID={rruff_id}\n"
    "##IDEAL CHEMISTRY=Ca_2_(Mg)_&#931;=5_Si_8_O_22_\n"
    "##LOCALITY=Minas Gerais, Brasil \u00f8 \u00e9\n"
    "##URL=rruff.info/{rruff_id}\n"
)


def peak(x, center, width=8.0):
    return np.exp(-0.5 * ((x - center) / width) ** 2)


def pseudo_voigt(x, center, height, fwhm, eta):
    """Independent reference: unit-height Gaussian/Lorentzian mixture."""
    sigma = fwhm / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    gauss = np.exp(-((x - center) ** 2) / (2.0 * sigma**2))
    lorentz = (fwhm / 2.0) ** 2 / ((x - center) ** 2 + (fwhm / 2.0) ** 2)
    return height * (eta * lorentz + (1.0 - eta) * gauss)


def write_spectrum(
    path,
    x,
    y,
    *,
    species="Quartz",
    rruff_id="R040031",
    extra="",
    newline="\n",
    data_newline=None,
    sci=False,
    end=True,
):
    """Write one RRUFF spectrum file; returns the path."""
    head = HEADER.format(species=species, rruff_id=rruff_id) + extra
    fmt = "{:.7E}, {:.7E}" if sci else "{:.4f}, {:.6f}"
    rows = [fmt.format(a, b) for a, b in zip(x, y)]
    data_newline = newline if data_newline is None else data_newline
    text = head.replace("\n", newline) + data_newline.join(rows) + data_newline
    if end:
        text += "##END=" + newline + newline + newline
    path.write_bytes(text.encode("utf-8"))
    return path


DIF_TEMPLATE = """      {species}\r
Diffraction data computed using the structure from the paper listed below, \r
along with the cell parameters refined from the powder pattern of {rruff_id}\r
      Some A, Author B\r
      The Canadian Mineralogist 13 (1975) 289-292\r
\r
      CELL PARAMETERS:   4.9134  4.9134  5.4052   90.000   90.000  120.000\r
      SPACE GROUP: P3_221\r
\r
            X-RAY WAVELENGTH:     1.541838\r
            BOUNDS ON TWO THETA:    5.0  90.0\r
\r
               2-THETA      INTENSITY    D-SPACING   H   K   L\r
{rows}{footer}"""

DIF_FOOTER = (
    "=" * 80 + "\r\n"
    "       XPOW Copyright 1993 Bob Downs, Ranjini Swaminathan and Kurt Bartelmehs\r\n"
)


def write_dif(path, peaks, *, species="Quartz", rruff_id="R040031", repeat_last=False):
    """Write a DIF (XPOW) peak list: ``peaks`` rows are (2theta, I, d, h, k, l)."""
    peaks = list(peaks) + ([peaks[-1]] if repeat_last else [])
    rows = "".join(
        f"{t:22.2f}{i:14.2f}{d:14.4f}{h:5d}{k:4d}{m:4d}\r\n"
        for t, i, d, h, k, m in peaks
    )
    footer = DIF_FOOTER.split("\r\n", 1)[1] if repeat_last else DIF_FOOTER
    text = DIF_TEMPLATE.format(
        species=species, rruff_id=rruff_id, rows=rows, footer=footer
    )
    path.write_bytes(text.encode("utf-8"))
    return path


QUARTZ_DIF = [
    (20.86, 22.0, 4.2550, 1, 0, 0),
    (26.64, 100.0, 3.3435, 1, 0, 1),
    (50.14, 14.0, 1.8180, 1, 1, 2),
]
