import os
import shutil
import sys
import warnings

import numpy as np
import pytest
from sklearn.model_selection import GroupKFold

from sktransfer.datasets import load_rruff, write_rruff
from tests.datasets._files import QUARTZ_DIF, peak, write_dif, write_spectrum

IR_X = np.arange(380.0, 4010.0, 2.0)
RAMAN_X = np.arange(100.0, 1300.0, 0.5)
RAMAN_SHORT_X = np.arange(300.0, 1100.0, 0.5)


def _ir(x, rid):
    return peak(x, 1080.0, 20.0) + (0.5 if rid == "R000002" else 0.2) * peak(
        x, 3400.0, 60.0
    )


def _raman(x, rid):
    return 100.0 * peak(x, 465.0 if rid == "R000001" else 1086.0, 4.0)


@pytest.fixture(scope="module")
def rruff_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("rruff")
    for sub in ("ir", "raman", "xrd"):
        (root / sub).mkdir()
    for rid, species, raman_x in [
        ("R000001", "Quartz", RAMAN_X),
        ("R000002", "Calcite", RAMAN_SHORT_X),
    ]:
        write_spectrum(
            root
            / "ir"
            / f"{species}__{rid}-1__Infrared__Infrared_Data_Processed__1.txt",
            IR_X,
            _ir(IR_X, rid),
            species=species,
            rruff_id=rid,
            sci=True,
        )
        write_spectrum(
            root
            / "raman"
            / f"{species}__{rid}__Raman__532__0__unoriented__Raman_Data_Processed.txt",
            raman_x,
            _raman(raman_x, rid),
            species=species,
            rruff_id=rid,
            data_newline="\r\n",
        )
    # One Raman-only and one IR-only id: never paired with each other.
    write_spectrum(
        root / "raman" / "Albite__R000003__Raman__532__0__unoriented__R_3.txt",
        RAMAN_X,
        _raman(RAMAN_X, "R000003"),
        species="Albite",
        rruff_id="R000003",
    )
    write_spectrum(
        root / "ir" / "Beryl__R000004-1__Infrared__Infrared_Data_Processed__4.txt",
        IR_X,
        _ir(IR_X, "R000004"),
        species="Beryl",
        rruff_id="R000004",
    )
    write_dif(root / "xrd" / "R000001_CIF.txt", QUARTZ_DIF, rruff_id="R000001")
    return root


@pytest.fixture(scope="module")
def paired(rruff_dir):
    return load_rruff(rruff_dir)


def test_paired_ids_species_and_shapes(paired):
    assert list(paired.rruff_ids) == ["R000001", "R000002"]
    assert list(paired.species) == ["Quartz", "Calcite"]
    assert paired.ir.shape == (2, 1024) and paired.raman.shape == (2, 1024)
    assert paired.xrd.shape == (2, 1701)
    np.testing.assert_array_equal(paired.has_xrd, [True, False])
    assert np.isnan(paired.xrd[1]).all()
    assert paired.xrd_peaks[1] is None
    np.testing.assert_allclose(paired.xrd_peaks[0][0], np.array(QUARTZ_DIF)[:, 0])
    assert paired.ir_axis[0] == 400.0 and paired.ir_axis[-1] == 4000.0
    assert paired.raman_axis[0] == 150.0 and paired.raman_axis[-1] == 1250.0
    assert paired.files[0]["ir"].endswith("Infrared_Data_Processed__1.txt")
    assert paired.metadata[0]["ir_sample_id"] == "R000001-1"
    assert paired.metadata[0]["raman_laser_nm"] == 532.0
    assert paired.skipped == [] and paired.dropped == []


def test_paired_values_match_truth(paired):
    for i, rid in enumerate(paired.rruff_ids):
        np.testing.assert_allclose(paired.ir[i], _ir(paired.ir_axis, rid), atol=2e-3)
    truth = _raman(paired.raman_axis, "R000001")
    np.testing.assert_allclose(paired.raman[0], truth, atol=0.2)


def test_outside_range_is_nan_not_invented(paired):
    axis = paired.raman_axis
    slack = (axis[1] - axis[0]) / 2
    outside = (axis < 300.0 - slack) | (axis > RAMAN_SHORT_X[-1] + slack)
    np.testing.assert_array_equal(np.isnan(paired.raman[1]), outside)
    assert not np.isnan(paired.raman[0]).any()
    np.testing.assert_allclose(paired.coverage["raman"], [1.0, 1 - outside.mean()])


def test_outside_policies(rruff_dir, paired):
    zero = load_rruff(rruff_dir, outside="zero")
    nan = np.isnan(paired.raman[1])
    assert (zero.raman[1][nan] == 0).all()
    np.testing.assert_array_equal(zero.raman[1][~nan], paired.raman[1][~nan])
    edge = load_rruff(rruff_dir, outside="edge")
    first, last = np.flatnonzero(~nan)[[0, -1]]
    assert (edge.raman[1][:first] == paired.raman[1][first]).all()
    assert (edge.raman[1][last + 1 :] == paired.raman[1][last]).all()
    dropped = load_rruff(rruff_dir, outside="drop")
    assert list(dropped.rruff_ids) == ["R000001"]
    assert dropped.dropped[0][0] == "R000002" and "raman" in dropped.dropped[0][1]
    np.testing.assert_array_equal(dropped.raman, paired.raman[:1])


def test_an_id_of_another_form_is_named(tmp_path):
    x = np.linspace(200.0, 1200.0, 100)
    meta = {"NAMES": "tablet", "RRUFFID": "T0201", "FILETYPE": "Raman Processed"}
    write_rruff(tmp_path / "T02_01.txt", x, peak(x, 600.0, 8.0), meta)
    with pytest.raises(ValueError, match="RRUFFID 'T0201' is not a RRUFF id"):
        load_rruff(tmp_path, pair=False)


def test_a_file_outside_its_whole_grid_stays_nan(rruff_dir):
    # documented: "zero" and "edge" have nothing to fill such a row from
    far = np.linspace(1150.0, 2000.0, 50)  # beyond R000002 (300-1099.5 cm-1)
    for outside in ("zero", "edge"):
        data = load_rruff(rruff_dir, raman_axis=far, outside=outside)
        assert data.has_raman.all() and np.isnan(data.raman[1]).all()
        assert not np.isnan(data.raman[0]).any()
        assert data.coverage["raman"][1] == 0.0


@pytest.mark.parametrize("pair", [True, False])
@pytest.mark.parametrize("outside", ["nan", "zero", "edge", "drop"])
def test_a_grid_no_file_covers_raises(rruff_dir, pair, outside):
    # an IR grid in micrometres gave rows of only NaN (or zero) or dropped
    # every row without a word
    micrometres = np.linspace(2.5, 25.0, 512)
    kw = {} if pair else {"pair": False, "modality": "ir"}
    with pytest.raises(ValueError) as info:
        load_rruff(rruff_dir, ir_axis=micrometres, outside=outside, **kw)
    assert str(info.value) == (
        "No ir file covers any point of ir_axis (2.5-25, 512 points): the "
        f"{2 if pair else 3} ir spectra span 380-4008. Is ir_axis in other "
        "units than the files (cm-1)? Pass as ir_axis a grid within the range "
        "the spectra span."
    )


@pytest.mark.parametrize("outside", ["nan", "drop"])
def test_a_given_grid_no_file_covers_raises_the_default_grid_does_not(
    tmp_path, outside
):
    # a file in micrometres: on the default IR grid (400-4000 cm-1), which
    # the caller did not choose, its row is NaN (or dropped), as documented
    x = np.linspace(2.5, 25.0, 200)
    write_spectrum(tmp_path / "Q__R000001-1__Infrared__Infrared_Data_P__1.txt", x, x)
    data = load_rruff(tmp_path, pair=False, outside=outside)
    assert data.coverage.tolist() == ([0.0] if outside == "nan" else [])
    with pytest.raises(ValueError) as info:
        load_rruff(
            tmp_path, pair=False, ir_axis=np.linspace(400, 4000, 10), outside=outside
        )
    assert str(info.value) == (
        "No ir file covers any point of ir_axis (400-4000, 10 points): the 1 ir "
        "spectra span 2.5-25. Is ir_axis in other units than the files (cm-1)? "
        "Pass as ir_axis a grid within the range the spectra span."
    )
    data = load_rruff(tmp_path, pair=False, ir_axis=x, outside=outside)
    np.testing.assert_allclose(data.ir[0], x, rtol=1e-4)  # x written to 4 decimals


def test_dropped_pairs_say_every_modality_short_and_by_how_many_points(tmp_path):
    ir_axis = np.linspace(400.0, 4000.0, 101)  # 36 cm-1 steps
    raman_axis = np.linspace(150.0, 1250.0, 111)  # 10 cm-1 steps
    for rid, ir_end, raman_end in [
        ("R000001", 4000.0, 1250.0),  # covers both grids
        ("R000002", 3950.0, 1250.0),  # IR one grid point short (3964 missing)
        ("R000003", 3950.0, 1200.0),  # both short: 1 and 5 points
    ]:
        write_spectrum(
            tmp_path / f"Quartz__{rid}-1__Infrared__Infrared_Data_Processed__1.txt",
            np.arange(380.0, ir_end + 1e-9, 2.0),
            np.ones(int((ir_end - 380.0) / 2) + 1),
            species="Quartz",
            rruff_id=rid,
        )
        x = np.arange(100.0, raman_end + 1e-9, 0.5)
        write_spectrum(
            tmp_path / f"Quartz__{rid}__Raman__532__0__unoriented__Raman_Data_P.txt",
            x,
            np.ones(x.size),
            species="Quartz",
            rruff_id=rid,
        )
    kept = load_rruff(tmp_path, ir_axis=ir_axis, raman_axis=raman_axis, outside="drop")
    assert list(kept.rruff_ids) == ["R000001"]
    assert kept.dropped == [
        ("R000002", "ir covers 100 of the 101 grid points (400-4000)"),
        (
            "R000003",
            "ir covers 100 of the 101 grid points (400-4000); "
            "raman covers 106 of the 111 grid points (150-1250)",
        ),
    ]


@pytest.mark.parametrize("normalize", ["max", "area"])
def test_normalize(rruff_dir, normalize):
    data = load_rruff(rruff_dir, normalize=normalize, outside="zero")
    for X, axis in [(data.ir, data.ir_axis), (data.raman, data.raman_axis)]:
        if normalize == "max":
            np.testing.assert_allclose(X.max(axis=1), 1.0)
        else:
            np.testing.assert_allclose(np.trapezoid(X, axis, axis=1), 1.0)


def test_custom_axes_and_xrd_rendering(rruff_dir):
    xrd_axis = np.linspace(20.0, 30.0, 1001)
    data = load_rruff(
        rruff_dir,
        ir_axis=np.linspace(1000, 1200, 201),
        raman_axis=np.linspace(400, 500, 101),
        xrd_axis=xrd_axis,
        xrd_fwhm=0.3,
    )
    assert data.ir.shape == (2, 201) and data.raman.shape == (2, 101)
    pattern = data.xrd[0]
    assert xrd_axis[np.argmax(pattern)] == pytest.approx(26.64, abs=0.01)
    assert pattern.max() == pytest.approx(100.0, rel=1e-3)
    above = xrd_axis[pattern > 50.0]
    assert above[-1] - above[0] == pytest.approx(0.3, abs=0.02)
    lorentz = load_rruff(rruff_dir, xrd_axis=xrd_axis, xrd_profile="lorentzian")
    # Lorentzian tails: far more intensity 1 degree away from the peak.
    far = np.argmin(np.abs(xrd_axis - 27.64))
    gauss = load_rruff(rruff_dir, xrd_axis=xrd_axis)
    assert lorentz.xrd[0][far] > 10 * gauss.xrd[0][far]


def test_xrd_fwhm_under_two_grid_steps_warns(rruff_dir):
    xrd_axis = np.linspace(20.0, 30.0, 201)  # 0.05 degree steps
    with pytest.warns(UserWarning, match="less than two steps of the XRD grid") as rec:
        coarse = load_rruff(rruff_dir, xrd_axis=xrd_axis, xrd_fwhm=0.05)
    assert rec[0].filename == __file__  # points at the call
    assert coarse.xrd[0].max() < 99.0  # the peak at 26.64 falls between points
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_rruff(rruff_dir, xrd_axis=xrd_axis, xrd_fwhm=0.1)


def test_require_raman_and_xrd(rruff_dir):
    data = load_rruff(rruff_dir, require=("raman", "xrd"))
    assert list(data.rruff_ids) == ["R000001"]
    # the ids left out are named with what they lack (they were not counted)
    assert data.unpaired == [
        ("R000002", "no xrd file"),
        ("R000003", "no xrd file"),
        ("R000004", "no raman or xrd file"),
    ]


def test_ids_without_a_required_modality_are_listed(paired, rruff_dir):
    assert paired.unpaired == [("R000003", "no ir file"), ("R000004", "no raman file")]
    assert load_rruff(rruff_dir, require=()).unpaired == []


def test_as_frame(rruff_dir):
    pd = pytest.importorskip("pandas")
    data = load_rruff(rruff_dir, as_frame=True)
    assert isinstance(data.metadata, pd.DataFrame)
    assert list(data.metadata["rruff_id"]) == ["R000001", "R000002"]


@pytest.mark.parametrize("pair", [True, False])
def test_as_frame_without_pandas(rruff_dir, monkeypatch, pair):
    monkeypatch.setitem(sys.modules, "pandas", None)
    kwargs = {} if pair else {"modality": "raman"}
    with pytest.raises(ImportError, match=r"as_frame=True needs pandas.*pip install"):
        load_rruff(rruff_dir, pair=pair, as_frame=True, **kwargs)
    # checked before any file is read
    with pytest.raises(ImportError, match="needs pandas"):
        load_rruff(rruff_dir / "missing", as_frame=True)
    assert isinstance(load_rruff(rruff_dir, pair=pair, **kwargs).metadata, list)


@pytest.mark.parametrize("as_frame", ["no", 1, None])
def test_as_frame_must_be_a_bool(rruff_dir, as_frame):
    # any truthy value was taken for True ("no" gave a DataFrame)
    with pytest.raises(ValueError, match="as_frame"):
        load_rruff(rruff_dir, as_frame=as_frame)


@pytest.fixture(scope="module")
def raw_processed_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("rawproc")
    x = np.arange(120.0, 1300.0, 1.3)
    clean = 50.0 * peak(x, 508.0, 5.0)
    for sample, angle in [("R040068-3", "0-000__"), ("R040068-3", "45-000__ccw")]:
        for kind, y in [("RAW", clean + 1e4 + 3.0 * x), ("Processed", clean)]:
            name = f"Albite__{sample}__Raman__514__{angle}__Raman_Data_{kind}__ab12.txt"
            extra = f"##FILETYPE=Raman {kind}\n##RAMAN WAVELENGTH=514\n"
            write_spectrum(
                root / name, x, y, species="Albite", rruff_id="R040068", extra=extra
            )
    return root


def test_unpaired_raw_processed(raw_processed_dir):
    data = load_rruff(raw_processed_dir, pair=False)
    assert data.modality == "raman"
    assert data.data.shape == (4, 1024) and data.raman is data.data
    assert sorted(data.kind) == ["Processed", "Processed", "RAW", "RAW"]
    assert set(data.sample_ids) == {"R040068-3"}
    assert set(data.rruff_ids) == {"R040068"}
    assert set(data.orientation) == {"0.000", "45.000 ccw"}
    np.testing.assert_array_equal(data.laser_nm, 514.0)
    for key in set(data.pair_key):
        rows = np.flatnonzero(data.pair_key == key)
        assert sorted(data.kind[rows]) == ["Processed", "RAW"]
        raw, proc = rows if data.kind[rows[0]] == "RAW" else rows[::-1]
        covered = ~np.isnan(data.data[raw])
        diff = data.data[raw] - data.data[proc]
        np.testing.assert_allclose(diff[covered], 1e4 + 3.0 * data.axis[covered])
    assert data.metadata[0]["filetype"].startswith("Raman")
    only_raw = load_rruff(raw_processed_dir, pair=False, kind="RAW")
    assert list(only_raw.kind) == ["RAW", "RAW"]


def test_raw_spectra_filled_with_zeros_warn(raw_processed_dir):
    # the step from a RAW spectrum's baseline to zero is followed by any
    # baseline method; nothing said so
    grid = np.linspace(100.0, 1250.0, 200)  # the files start at 120
    with pytest.warns(UserWarning, match=r"^2 RAW raman spectra cover the grid in"):
        load_rruff(raw_processed_dir, pair=False, raman_axis=grid, outside="zero")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_rruff(raw_processed_dir, pair=False, raman_axis=grid, outside="edge")
        load_rruff(raw_processed_dir, pair=False, outside="zero")  # covered
        load_rruff(
            raw_processed_dir,
            pair=False,
            kind="Processed",
            raman_axis=grid,
            outside="zero",
        )


def test_the_file_a_sample_gets_does_not_swap_with_the_grid(tmp_path):
    # an oriented 514 nm spectrum covering a hundredth more of a wider grid
    # beat the unoriented 532 nm one, which won on the default grid
    rid = "R040068"
    write_spectrum(
        tmp_path / f"Albite__{rid}-1__Infrared__Infrared_Data_Processed__1.txt",
        IR_X, _ir(IR_X, rid), species="Albite", rruff_id=rid,
    )  # fmt: skip
    unoriented = (
        f"Albite__{rid}__Raman__532__0__unoriented__Raman_Data_Processed__2.txt"
    )
    oriented = f"Albite__{rid}-4__Raman__514__0-000____Raman_Data_Processed__3.txt"
    for name, start in [(unoriented, 133.0), (oriented, 20.0)]:
        x = np.linspace(start, 1300.0, 1200)
        write_spectrum(
            tmp_path / name, x, _raman(x, rid), species="Albite", rruff_id=rid
        )
    for grid in (
        None,
        np.linspace(100.0, 1250.0, 1024),
        np.linspace(100.0, 1300.0, 1024),
    ):
        data = load_rruff(tmp_path, raman_axis=grid)
        assert data.files[0]["raman"].endswith(unoriented), grid
    # coverage in tenths still counts first
    data = load_rruff(tmp_path, raman_axis=np.linspace(60.0, 1250.0, 1024))
    assert data.files[0]["raman"].endswith(oriented)


def test_paired_prefers_processed(raw_processed_dir, tmp_path):
    data = load_rruff(raw_processed_dir, require=("raman",))
    assert data.metadata[0]["raman_kind"] == "Processed"
    assert data.ir is None and not data.has_ir.any()


def test_unreadable_files_are_listed_in_one_error(rruff_dir, tmp_path):
    for name in ("Quartz__R000001__Raman__a.txt", "Calcite__R000002__Raman__b.txt"):
        (tmp_path / name).write_bytes(b"\x00\x01binary")
    (tmp_path / "bad.txt").write_text("##NAMES=A\n1, 2\n3, x\n")
    write_spectrum(
        tmp_path / "Quartz__R000001-1__Infrared__Infrared_Data_Processed__1.txt",
        IR_X,
        _ir(IR_X, "R000001"),
        rruff_id="R000001",
    )
    write_spectrum(
        tmp_path / "Quartz__R000001__Raman__532__0__unoriented__Raman_Data_P__2.txt",
        RAMAN_X,
        _raman(RAMAN_X, "R000001"),
        rruff_id="R000001",
    )
    with pytest.raises(ValueError, match="3 RRUFF file") as info:
        load_rruff(tmp_path)
    message = str(info.value)
    assert "Quartz__R000001__Raman__a.txt" in message and "binary" in message
    assert "bad.txt, line 3" in message
    # one line per file, its path once (a reason that names it is not prefixed)
    lines = message.splitlines()[1:]
    assert len(lines) == 3
    for line, name in zip(sorted(lines), ["Calcite", "Quartz", "bad"]):
        assert line.count(str(tmp_path)) == 1 and name in line
    data = load_rruff(tmp_path, on_error="skip")
    assert list(data.rruff_ids) == ["R000001"]
    assert len(data.skipped) == 3


def test_hidden_files_and_folders_are_left_out(rruff_dir, tmp_path):
    # macOS resource forks (binary) beside each file, Jupyter checkpoint copies
    root = tmp_path / "copy"
    shutil.copytree(rruff_dir, root)
    for path in sorted(root.rglob("*.txt")):
        (path.parent / f"._{path.name}").write_bytes(b"\x00\x05\x16\x07Mac OS X")
    hidden = root / "raman" / ".ipynb_checkpoints"
    hidden.mkdir()
    write_spectrum(
        hidden / "Albite__R000003__Raman__532__0__unoriented__R_3-checkpoint.txt",
        RAMAN_X,
        _raman(RAMAN_X, "R000003"),
        species="Albite",
        rruff_id="R000003",
    )
    data = load_rruff(root, pair=False, modality="raman")
    assert data.skipped == []
    assert sorted(data.rruff_ids) == ["R000001", "R000002", "R000003"]


def test_spectra_written_by_sktransfer_are_no_measurements(rruff_dir, tmp_path):
    # Predictions saved into the data tree cover the whole grid: they beat a
    # measured spectrum of partial coverage (R000002) and pair IR-only ids
    # (R000004). Neither they nor generated spectra are measurements.
    root = tmp_path / "copy"
    shutil.copytree(rruff_dir, root)
    for rid, species in [("R000002", "Calcite"), ("R000004", "Beryl")]:
        meta = {"NAMES": species, "RRUFFID": rid}
        meta["FILETYPE"] = "predicted raman (sktransfer)"  # transfer predict
        name = f"{species}__{rid}-1__Infrared_Data_Processed__1__predicted_raman.txt"
        write_rruff(root / "raman" / name, RAMAN_X, _raman(RAMAN_X, rid), meta)
    generated = {  # augment
        "NAMES": "Quartz",
        "DESCRIPTION": "generated by WGANGPOverSampler (sktransfer)",
        "GENERATED": "true",
    }
    write_rruff(root / "generated_Quartz_1.txt", RAMAN_X, RAMAN_X, generated)
    data = load_rruff(root)  # on_error="raise": they are no errors
    assert list(data.rruff_ids) == ["R000001", "R000002"]
    assert "predicted" not in data.files[1]["raman"]
    reasons = sorted((os.path.basename(p), r) for p, r in data.skipped)
    assert [r for _, r in reasons] == [
        "written by sktransfer as a prediction, not a measurement",
        "written by sktransfer as a prediction, not a measurement",
        "written by sktransfer as a generated spectrum, not a measurement",
    ]
    raman = load_rruff(root, pair=False, modality="raman")
    assert sorted(raman.rruff_ids) == ["R000001", "R000002", "R000003"]
    assert len(raman.skipped) == 3


def _write_fields(path, x=None, **fields):
    """A spectrum file with only the given ##KEY=value header fields."""
    x = np.arange(150.0, 1250.0, 5.0) if x is None else x
    head = "".join(f"##{key.replace('_', ' ')}={v}\n" for key, v in fields.items())
    rows = "".join(f"{v:.1f}, {v % 7:.1f}\n" for v in x)
    path.write_text(head + rows)


def test_modality_kind_and_ids_from_header_or_file_name(tmp_path):
    # FILETYPE first, then the file name; the RRUFFID header, then the name
    _write_fields(
        tmp_path / "a.txt", FILETYPE="Infrared Processed", RRUFFID="R050001-2"
    )
    _write_fields(tmp_path / "b.txt", FILETYPE="IR RAW", RRUFFID="R050002", NAMES="B")
    _write_fields(
        tmp_path / "Beryl__R050003__Infrared__Infrared_Data_RAW__3.txt",
        FILETYPE="Infrared",
    )
    _write_fields(tmp_path / "Beryl__R050004__Infrared__Data_Processed__4.txt")
    two_theta = np.arange(5.0, 90.0, 0.5)
    _write_fields(
        tmp_path / "c.txt", two_theta, FILETYPE="Powder Diffraction", RRUFFID="R050005"
    )
    # the header id wins over a different one in the name
    _write_fields(
        tmp_path / "Talc__R050007-1__Powder.txt", two_theta, RRUFFID="R050006"
    )
    ir = load_rruff(tmp_path, pair=False, modality="ir")
    names = [os.path.basename(f) for f in ir.files]
    assert names == [
        "Beryl__R050003__Infrared__Infrared_Data_RAW__3.txt",
        "Beryl__R050004__Infrared__Data_Processed__4.txt",
        "a.txt",
        "b.txt",
    ]
    assert list(ir.kind) == ["RAW", "Processed", "Processed", "RAW"]
    assert list(ir.rruff_ids) == ["R050003", "R050004", "R050001", "R050002"]
    assert list(ir.sample_ids) == ["R050003", "R050004", "R050001-2", "R050002"]
    # the species is the NAMES header, else the first part of the file name
    assert list(ir.species) == ["Beryl", "Beryl", "a", "B"]
    # without a Data part in the name, the pair key is made of what is known
    assert list(ir.pair_key[2:]) == ["R050001-2__ir", "R050002__ir"]
    xrd = load_rruff(tmp_path, pair=False, modality="xrd")
    assert list(xrd.kind) == ["XY", "XY"]
    assert dict(zip(xrd.rruff_ids, xrd.sample_ids)) == {
        "R050006": "R050006",
        "R050005": "R050005",
    }


def _named_pair(root, rid, ir_name, raman_name):
    """An IR and a Raman file of one RRUFF id, each naming its species."""
    ir_x = np.arange(400.0, 4000.0, 20.0)
    _write_fields(
        root / f"{ir_name}__{rid}-1__Infrared__Infrared_Data_Processed.txt",
        ir_x,
        NAMES=ir_name,
        RRUFFID=rid,
    )
    _write_fields(
        root / f"{raman_name}__{rid}__Raman__532__0__unoriented__"
        "Raman_Data_Processed.txt",
        NAMES=raman_name,
        RRUFFID=rid,
    )


def test_species_that_the_files_of_one_sample_disagree_on_are_one_group(tmp_path):
    for rid, ir_name, raman_name in [
        ("R000010", "Hauyne", "Lazurite"),  # one sample, two names
        ("R000011", "Hauyne", "Hauyne"),
        ("R000012", "Lazurite", "Lazurite"),
        ("R000013", "Quartz", "Quartz"),
        ("R000014", "Baryte", "Barite"),
        ("R000015", "Barite", "Barite"),
        ("R000016", "Barytes", "Baryte"),  # joined through R000014's Baryte
    ]:
        _named_pair(tmp_path, rid, ir_name, raman_name)
    with pytest.warns(UserWarning, match="files of 3 sample") as record:
        data = load_rruff(tmp_path)
    message = str(record[0].message)
    assert "R000010 (Hauyne, Lazurite)" in message
    assert "R000014 (Barite, Baryte)" in message
    assert "R000016 (Baryte, Barytes)" in message
    assert record[0].filename == __file__
    # the species is the Raman file's; the groups join what one sample names
    assert list(data.species) == [
        "Lazurite",
        "Hauyne",
        "Lazurite",
        "Quartz",
        "Barite",
        "Barite",
        "Baryte",
    ]
    barite, hauyne = "Barite/Baryte/Barytes", "Hauyne/Lazurite"
    assert list(data.species_groups) == [hauyne] * 3 + ["Quartz"] + [barite] * 3
    # a split grouped by them keeps the three Hauyne samples on one side
    for _, test in GroupKFold(3).split(data.raman, groups=data.species_groups):
        assert np.isin([0, 1, 2], test).sum() in (0, 3)
    # one modality: the files of one id name one species, so no group joins
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ir = load_rruff(tmp_path, pair=False, modality="ir")
    assert list(ir.species_groups) == list(ir.species)


def test_species_groups_of_files_loaded_one_by_one(tmp_path):
    # two Raman files of one id under two names, and an id of its own
    _write_fields(
        tmp_path / "Garronite__R050281__Raman__532__0__unoriented__Raman_Data_RAW.txt",
        NAMES="Garronite",
    )
    _write_fields(
        tmp_path / "Garronite-Ca__R050281__Raman__532__0__unoriented__"
        "Raman_Data_Processed.txt",
        NAMES="Garronite-Ca",
    )
    _write_fields(
        tmp_path / "Garronite__R050282__Raman__532__0__unoriented__"
        "Raman_Data_Processed.txt",
        NAMES="Garronite",
    )
    _write_fields(
        tmp_path / "Talc__R050283__Raman__532__0__unoriented__Raman_Data_Processed.txt",
        NAMES="Talc",
    )
    # a file name that is no RRUFF name gives its stem, which names nothing
    _write_fields(tmp_path / "t.txt", FILETYPE="Raman Processed", RRUFFID="R050283")
    match = r"1 sample.*R050281 \(Garronite, Garronite-Ca\)\."
    with pytest.warns(UserWarning, match=match):
        data = load_rruff(tmp_path, pair=False, modality="raman")
    names = ["Garronite", "Garronite", "Garronite-Ca", "Talc", "t"]
    assert sorted(data.species) == names
    assert sorted(data.species_groups) == ["Garronite/Garronite-Ca"] * 3 + ["Talc", "t"]


def test_raman_laser_orientation_and_pair_key_from_file_name(tmp_path):
    name = "Albite__R050008-2__Raman__785__0-000__unoriented"
    _write_fields(tmp_path / f"{name}.txt", NAMES="Albite")
    _write_fields(
        tmp_path / f"{name}__Raman_Data_Processed__12.txt",
        NAMES="Albite (low)",
        RAMAN_WAVELENGTH="532",
    )
    with pytest.warns(UserWarning, match=r"R050008 \(Albite, Albite \(low\)\)"):
        data = load_rruff(tmp_path, pair=False)
    assert data.modality == "raman"
    assert list(data.rruff_ids) == ["R050008", "R050008"]
    assert list(data.sample_ids) == ["R050008-2", "R050008-2"]
    assert list(data.species) == ["Albite", "Albite (low)"]
    assert list(data.species_groups) == ["Albite/Albite (low)"] * 2
    # the RAMAN WAVELENGTH header wins over the laser in the name
    np.testing.assert_array_equal(data.laser_nm, [785.0, 532.0])
    assert list(data.orientation) == ["0.000 unoriented"] * 2
    assert list(data.pair_key) == ["R050008-2__raman__785.0__0.000 unoriented", name]


def test_files_without_modality_or_id_and_written_by_other_tools(tmp_path):
    _write_fields(tmp_path / "a.txt", RRUFFID="R050001")
    _write_fields(tmp_path / "b.txt", FILETYPE="Raman", RRUFFID="Quartz-1")
    _write_fields(tmp_path / "h.txt", FILETYPE="Raman")
    # a header that is no id leaves the id of the file name
    _write_fields(tmp_path / "Quartz__R050010-3__Raman.txt", RRUFFID="Quartz-3")
    # only "predicted ... (sktransfer)" and "generated ... (sktransfer)" are
    # sktransfer's
    for name, fields in [
        ("c.txt", {"FILETYPE": "predicted raman (other tool)"}),
        ("d.txt", {"FILETYPE": "Raman processed (sktransfer)"}),
        ("e.txt", {"FILETYPE": "Raman", "DESCRIPTION": "generated by hand"}),
        ("f.txt", {"FILETYPE": "Raman", "DESCRIPTION": "measured (sktransfer)"}),
        ("g.txt", {"FILETYPE": "Raman", "DESCRIPTION": "generated (sktransfer)"}),
        ("i.txt", {"FILETYPE": "Raman", "GENERATED": "TRUE"}),
    ]:
        _write_fields(tmp_path / name, RRUFFID="R050002", **fields)
    data = load_rruff(tmp_path, pair=False, on_error="skip")
    assert [os.path.basename(f) for f in data.files] == [
        "Quartz__R050010-3__Raman.txt",
        "c.txt",
        "d.txt",
        "e.txt",
        "f.txt",
    ]
    assert (data.rruff_ids[0], data.sample_ids[0]) == ("R050010", "R050010-3")
    skipped = {os.path.basename(p): reason for p, reason in data.skipped}
    assert skipped == {
        "a.txt": "modality not recognised",
        "b.txt": (
            "RRUFFID 'Quartz-1' is not a RRUFF id (R or X and six digits, such "
            "as R040031), nor is one in the file name"
        ),
        "g.txt": "written by sktransfer as a generated spectrum, not a measurement",
        "h.txt": "no RRUFF id in header or file name",
        "i.txt": "written by sktransfer as a generated spectrum, not a measurement",
    }


def test_paired_prefers_coverage_then_lasers_in_documented_order(tmp_path):
    # Processed files of one id: the widest coverage first, then the laser
    # (532, 514, 785, 780 nm, then any other), then the file name
    def raman(name, laser, x=None):
        fields = {"FILETYPE": "Raman Processed", "RAMAN_WAVELENGTH": laser}
        _write_fields(tmp_path / name, x=x, RRUFFID="R060001", **fields)

    raman("a_short.txt", 532, x=np.arange(300.0, 1100.0, 5.0))
    for laser in (633, 780, 785, 514, 532):
        raman(f"b_{laser}.txt", laser)
    chosen = []
    for _ in range(6):
        data = load_rruff(tmp_path, require="raman")
        chosen.append(os.path.basename(data.files[0]["raman"]))
        os.remove(data.files[0]["raman"])
    assert chosen == [
        "b_532.txt",
        "b_514.txt",
        "b_785.txt",
        "b_780.txt",
        "b_633.txt",
        "a_short.txt",
    ]


def test_unpaired_outside_policies(tmp_path):
    # one file covers the Raman grid, the other 300-1100 cm-1 of it
    full, short = np.arange(140.0, 1260.0, 1.0), np.arange(300.0, 1100.0, 1.0)
    for name, x in (("a.txt", full), ("b.txt", short)):
        meta = {"RRUFFID": "R060002", "FILETYPE": "Raman Processed"}
        write_rruff(tmp_path / name, x, 1.0 + x / 100.0, meta)
    nan = load_rruff(tmp_path, pair=False)
    measured = ~np.isnan(nan.data[1])
    first, last = np.flatnonzero(measured)[[0, -1]]
    np.testing.assert_allclose(nan.coverage, [1.0, measured.mean()])
    edge = load_rruff(tmp_path, pair=False, outside="edge")
    zero = load_rruff(tmp_path, pair=False, outside="zero")
    for filled in (edge, zero):
        np.testing.assert_array_equal(filled.data[:, measured], nan.data[:, measured])
        np.testing.assert_array_equal(filled.data[0], nan.data[0])
        np.testing.assert_array_equal(filled.coverage, nan.coverage)
    np.testing.assert_array_equal(edge.data[1, :first], nan.data[1, first])
    np.testing.assert_array_equal(edge.data[1, last + 1 :], nan.data[1, last])
    np.testing.assert_array_equal(zero.data[1, ~measured], 0.0)
    drop = load_rruff(tmp_path, pair=False, outside="drop")
    assert [os.path.basename(f) for f in drop.files] == ["a.txt"]
    np.testing.assert_array_equal(drop.data, nan.data[:1])
    np.testing.assert_array_equal(drop.coverage, [1.0])
    n = int(measured.sum())
    assert drop.dropped == [
        (
            str(tmp_path / "b.txt"),
            f"raman covers {n} of the 1024 grid points (150-1250)",
        )
    ]


def test_paired_coverage_of_a_missing_modality_is_zero(rruff_dir):
    data = load_rruff(rruff_dir, require="ir", kind="Processed")
    assert list(data.rruff_ids) == ["R000001", "R000002", "R000004"]
    np.testing.assert_array_equal(data.has_raman, [True, True, False])
    assert data.coverage["raman"][2] == 0.0
    # kind applies to IR and Raman files only: the DIF file stays
    np.testing.assert_array_equal(data.has_xrd, [True, False, False])
    assert data.coverage["xrd"][0] == 1.0


def test_dif_without_two_theta_bounds_covers_the_whole_grid(tmp_path):
    path = write_dif(tmp_path / "R000001_CIF.txt", QUARTZ_DIF, rruff_id="R000001")
    text = path.read_bytes().replace(b"BOUNDS ON TWO THETA:    5.0  90.0", b"")
    path.write_bytes(text)
    data = load_rruff(tmp_path, pair=False)
    assert data.modality == "xrd" and data.kind[0] == "DIF"
    assert not np.isnan(data.data).any()
    np.testing.assert_array_equal(data.coverage, [1.0])


def test_default_axes_and_axes_of_two_points(rruff_dir):
    data = load_rruff(rruff_dir)
    np.testing.assert_array_equal(data.xrd_axis, np.linspace(5.0, 90.0, 1701))
    np.testing.assert_array_equal(data.ir_axis, np.linspace(400.0, 4000.0, 1024))
    np.testing.assert_array_equal(data.raman_axis, np.linspace(150.0, 1250.0, 1024))
    two = load_rruff(rruff_dir, raman_axis=[400.0, 800.0])
    assert two.raman.shape == (2, 2)
    for axis in ([500.0], [[400.0, 800.0]]):
        with pytest.raises(ValueError, match="raman_axis must be 1-D with at least 2"):
            load_rruff(rruff_dir, raman_axis=axis)


def test_nothing_to_load_is_said_as_such(raw_processed_dir, tmp_path):
    with pytest.raises(ValueError, match="No xrd files found; found modalities"):
        load_rruff(raw_processed_dir, pair=False, modality="xrd")
    _write_fields(tmp_path / "a.txt", FILETYPE="Raman Processed", RRUFFID="R060003")
    with pytest.raises(ValueError, match="No readable RRUFF file of kind 'RAW'"):
        load_rruff(tmp_path, kind="RAW", require="raman")
    _write_fields(tmp_path / "b.txt", FILETYPE="Infrared Processed", RRUFFID="R060004")
    with pytest.raises(ValueError, match="No RRUFF id has all required modalities"):
        load_rruff(tmp_path)
    # two modalities: pair=False needs to be told which
    with pytest.raises(ValueError, match="modality must be given with pair=False"):
        load_rruff(tmp_path, pair=False)


def test_directory_errors(tmp_path):
    with pytest.raises(OSError, match="does not exist"):
        load_rruff(tmp_path / "missing")
    (tmp_path / "notes.csv").write_text("a,b\n")
    with pytest.raises(ValueError, match="No RRUFF files"):
        load_rruff(tmp_path)


def test_required_modality_absent(raw_processed_dir):
    with pytest.raises(ValueError, match="No ir files found"):
        load_rruff(raw_processed_dir)


def test_unpaired_needs_modality_when_several(rruff_dir):
    with pytest.raises(ValueError, match="modality must be given"):
        load_rruff(rruff_dir, pair=False)
    data = load_rruff(rruff_dir, pair=False, modality="xrd")
    assert list(data.kind) == ["DIF"]


@pytest.mark.parametrize(
    "params, match",
    [
        ({"normalize": "l2"}, "normalize"),
        ({"outside": "fill"}, "outside"),
        ({"kind": "raw"}, "kind"),
        ({"on_error": "ignore"}, "on_error"),
        ({"xrd_fwhm": 0.0}, "xrd_fwhm"),
        ({"xrd_profile": "voigt"}, "xrd_profile"),
        ({"raman_axis": [3.0, 2.0, 2.5]}, "raman_axis"),
        ({"require": ("uv",)}, "require"),
        ({"pair": "yes"}, "pair"),
    ],
)
def test_bad_parameters(rruff_dir, params, match):
    with pytest.raises(ValueError, match=match):
        load_rruff(rruff_dir, **params)


def test_half_step_slack_at_grid_ends(tmp_path):
    # RRUFF IR files typically end at 3999.6 cm-1: the 4000 grid point is kept.
    x = np.linspace(399.2, 3999.6, 1869)
    y = np.linspace(0.0, 1.0, x.size)
    write_spectrum(tmp_path / "Q__R000001-1__Infrared__Infrared_Data_P__1.txt", x, y)
    data = load_rruff(tmp_path, require=("ir",))
    assert not np.isnan(data.ir).any()
    assert data.ir[0, -1] == pytest.approx(1.0)
    grid = np.linspace(3000.0, 4010.0, 102)  # step 10: 4010 is 10.4 beyond
    short = load_rruff(tmp_path, require=("ir",), ir_axis=grid)
    np.testing.assert_array_equal(np.isnan(short.ir[0]), grid > 4005.0)
    assert short.coverage["ir"][0] == pytest.approx(101 / 102)


def test_inputs_not_modified(rruff_dir):
    axis = np.linspace(400.0, 1200.0, 50)
    before = axis.copy()
    load_rruff(rruff_dir, raman_axis=axis, normalize="max", outside="edge")
    np.testing.assert_array_equal(axis, before)


def test_a_file_is_not_a_directory(tmp_path):
    path = write_spectrum(
        tmp_path / "Q__R000001-1__Infrared__Infrared_Data_P__1.txt",
        np.linspace(400.0, 4000.0, 50),
        np.ones(50),
    )
    with pytest.raises(OSError, match="is a file, not a directory; read one file"):
        load_rruff(path)


def test_one_modality_name_is_not_read_letter_by_letter(rruff_dir):
    as_string = load_rruff(rruff_dir, require="raman")
    as_tuple = load_rruff(rruff_dir, require=("raman",))
    assert list(as_string.rruff_ids) == list(as_tuple.rruff_ids)
    np.testing.assert_array_equal(as_string.raman, as_tuple.raman)


def test_unparsable_number_is_skipped_not_a_crash(rruff_dir, tmp_path):
    # "1_000" once raised TypeError, which escaped on_error="skip".
    bad = tmp_path / "Bad__R000009__Raman__Raman_Data_Processed__1.txt"
    bad.write_text("##NAMES=Bad\n##RRUFFID=R000009\n1_000, 1\n1001, 2\n")
    shutil.copytree(rruff_dir, tmp_path / "copy")
    data = load_rruff(tmp_path, on_error="skip")
    assert [p for p, _ in data.skipped] == [str(bad)]
    assert "line 3" in data.skipped[0][1]


def test_area_normalize_of_huge_values(tmp_path):
    # The area of values near 1e308 overflows; the normalised row must not.
    x = np.linspace(150.0, 1250.0, 200)
    y = 1e308 * (0.5 + 0.5 * peak(x, 700.0, 50.0))
    path = tmp_path / "H__R000001__Raman__Raman_Data_Processed__1.txt"
    path.write_text(
        "##NAMES=H\n##RRUFFID=R000001\n"
        + "".join(f"{a!r}, {b!r}\n" for a, b in zip(x.tolist(), y.tolist()))
    )
    data = load_rruff(tmp_path, require="raman", raman_axis=x, normalize="area")
    expected = y / 1e308 / np.trapezoid(y / 1e308, x)
    np.testing.assert_allclose(data.raman[0], expected, rtol=1e-12)


def test_normalize_leaves_a_spectrum_with_nothing_to_scale_by(tmp_path):
    # A spectrum below zero has no positive maximum and a flat zero one has
    # no area: both are returned as interpolated, beside a scaled spectrum.
    x = np.linspace(150.0, 1250.0, 200)
    rows = {"R000001": -1.0 - peak(x, 700.0, 50.0), "R000002": np.zeros(x.size)}
    rows["R000003"] = 2.0 + 3.0 * peak(x, 700.0, 50.0)
    for rid, y in rows.items():
        path = tmp_path / f"M__{rid}__Raman__Raman_Data_Processed__1.txt"
        write_spectrum(path, x, y, rruff_id=rid)
    by_max = load_rruff(tmp_path, require="raman", raman_axis=x, normalize="max")
    by_area = load_rruff(tmp_path, require="raman", raman_axis=x, normalize="area")
    assert list(by_max.rruff_ids) == list(rows)
    # the files hold six decimals
    np.testing.assert_allclose(by_max.raman[0], rows["R000001"], atol=1e-6)
    top = rows["R000003"].max()
    np.testing.assert_allclose(by_max.raman[2], rows["R000003"] / top, atol=1e-6)
    np.testing.assert_array_equal(by_area.raman[1], 0.0)
    # the negative spectrum has an area: its absolute value is scaled to 1
    assert abs(np.trapezoid(by_area.raman[0], x)) == pytest.approx(1.0)
    assert np.all(by_area.raman[0] < 0)


def test_measured_xrd_scan_is_interpolated_and_preferred(rruff_dir, tmp_path):
    """A headerless XY_RAW scan is read as XRD, interpolated (not rendered as
    peaks), and wins over a DIF of the same sample unless asked otherwise."""
    import shutil

    root = tmp_path / "rruff"
    shutil.copytree(rruff_dir, root)
    two_theta = np.arange(5.0, 90.0, 0.01)
    counts = 100 + 900 * np.exp(-0.5 * ((two_theta - 26.6) / 0.05) ** 2)
    scan = root / "xrd" / "Quartz__R000001-1__Powder__Xray_Data_XY_RAW.txt"
    scan.write_text("".join(f"{a:.2f} {b:.3f}\n" for a, b in zip(two_theta, counts)))
    measured = load_rruff(root)
    assert measured.metadata[0]["xrd_kind"] == "XY"
    grid = measured.xrd_axis
    truth = 100 + 900 * np.exp(-0.5 * ((grid - 26.6) / 0.05) ** 2)
    inside = grid <= two_theta[-1]
    np.testing.assert_allclose(measured.xrd[0][inside], truth[inside], rtol=0.05)
    dif = load_rruff(root, xrd_prefer="dif")
    assert dif.metadata[0]["xrd_kind"] == "DIF"
    np.testing.assert_allclose(dif.xrd, load_rruff(rruff_dir).xrd, equal_nan=True)
    with pytest.raises(ValueError, match="xrd_prefer"):
        load_rruff(root, xrd_prefer="scan")


def test_overlapping_directories_read_each_file_once(rruff_dir):
    # a folder and its subfolder, or one folder named twice, read the same
    # files twice: duplicates that could sit on both sides of a split
    once = load_rruff(rruff_dir / "raman", pair=False)
    for dirs in (
        [rruff_dir / "raman", str(rruff_dir / "raman") + os.sep],
        [rruff_dir, rruff_dir / "raman"],
    ):
        data = load_rruff(dirs, pair=False, modality="raman")
        assert data.data.shape == once.data.shape
        assert sorted(data.sample_ids) == sorted(once.sample_ids)


def test_files_that_say_no_kind_are_named_when_kind_leaves_them_out(tmp_path):
    # they were dropped without a word, and a folder of them gave "No
    # readable RRUFF files found"
    x = np.linspace(150.0, 1250.0, 100)
    for i in range(3):
        meta = {"NAMES": "A", "RRUFFID": f"R00000{i}", "FILETYPE": "Raman"}
        write_rruff(tmp_path / f"s{i}_raman.txt", x, peak(x, 600.0), meta)
    args = {"pair": False, "modality": "raman"}
    assert len(load_rruff(tmp_path, **args).data) == 3
    with pytest.raises(ValueError, match="No RRUFF file of kind 'Processed' found: 3"):
        load_rruff(tmp_path, kind="Processed", **args)
    meta = {"NAMES": "A", "RRUFFID": "R000009", "FILETYPE": "Raman Processed"}
    write_rruff(tmp_path / "p_raman.txt", x, peak(x, 600.0), meta)
    with pytest.warns(UserWarning, match="3 IR/Raman file\\(s\\) say no kind") as rec:
        data = load_rruff(tmp_path, kind="Processed", **args)
    assert len(data.data) == 1 and "s0_raman.txt" in str(rec[0].message)


def test_a_file_whose_axis_turns_back_is_refused(tmp_path):
    # overlapping segments were merged and interpolated into a sawtooth
    x = np.r_[np.linspace(150.0, 800.0, 60), np.linspace(700.0, 1250.0, 60)]
    y = np.r_[np.zeros(60), np.full(60, 10.0)]
    meta = {"NAMES": "A", "RRUFFID": "R000001", "FILETYPE": "Raman Processed"}
    write_rruff(tmp_path / "overlap.txt", x, y, meta)
    write_rruff(tmp_path / "good.txt", x[:60], y[:60], {**meta, "RRUFFID": "R000002"})
    with pytest.raises(
        ValueError, match="overlap.txt: the axis turns back at point 61"
    ):
        load_rruff(tmp_path, pair=False)
    data = load_rruff(tmp_path, pair=False, on_error="skip")
    assert list(data.rruff_ids) == ["R000002"]
    assert "turns back" in data.skipped[0][1]
    # a descending axis, and repeated points, are no turn
    write_rruff(tmp_path / "overlap.txt", x[:60][::-1], y[:60], meta, overwrite=True)
    assert len(load_rruff(tmp_path, pair=False).data) == 2


def test_a_folder_that_cannot_be_listed_is_an_error_naming_it(tmp_path, monkeypatch):
    # os.walk skipped a folder without read permission without a word: the
    # spectra in it were left out of load_rruff and of the command line
    from sktransfer.cli import main

    x = np.linspace(100.0, 1000.0, 50)
    (tmp_path / "in" / "locked").mkdir(parents=True)
    write_spectrum(tmp_path / "in" / "a.txt", x, peak(x, 400.0))
    write_spectrum(tmp_path / "in" / "locked" / "b.txt", x, peak(x, 500.0))
    scandir = os.scandir

    def denied(path="."):
        if os.path.basename(os.fspath(path)) == "locked":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", denied)
    with pytest.raises(PermissionError, match="cannot list the folder") as info:
        load_rruff(tmp_path / "in", pair=False)
    assert info.value.filename.endswith("locked")
    assert main(["baseline", str(tmp_path / "in"), "-o", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("pair", [False, True])
def test_spectra_mostly_filled_by_outside_warn(tmp_path, pair):
    # a Raman file whose axis is in nm covers a sliver of the cm-1 grid:
    # outside="zero" or "edge" made it 97 % filler without a word
    nm = np.linspace(536.0, 570.0, 400)
    for k, raman_x in enumerate([nm, RAMAN_X, RAMAN_X, RAMAN_X]):
        rid = f"R00000{k + 1}"
        write_spectrum(
            tmp_path / f"Quartz__{rid}-1__Infrared__Infrared_Data_Processed__1.txt",
            IR_X,
            peak(IR_X, 1100.0),
            rruff_id=rid,
        )
        write_spectrum(
            tmp_path / f"Quartz__{rid}__Raman__532__0__unoriented__Processed__1.txt",
            raman_x,
            peak(raman_x, 550.0 if k == 0 else 465.0, 2.0),
            rruff_id=rid,
        )
    kw = {"pair": pair} if pair else {"pair": False, "modality": "raman"}
    for outside in ("zero", "edge"):
        with pytest.warns(UserWarning, match="1 raman spectra cover less") as w:
            data = load_rruff(tmp_path, outside=outside, **kw)
        assert [r.filename for r in w if "cover less" in str(r.message)] == [__file__]
        coverage = data.coverage["raman"] if pair else data.coverage
        assert 0 < coverage[0] < 0.05
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_rruff(tmp_path, outside="nan", **kw)  # NaN says it already
        # a grid of one's own wider than every spectrum is chosen, not a
        # mistake
        wide = {"raman_axis": np.linspace(100.0, 4000.0, 1024)}
        load_rruff(tmp_path, outside="zero", **{**kw, **wide})
    # on the default grid a file in nm warns also alone
    for path in tmp_path.glob("*R00000[234]*"):
        path.unlink()
    with pytest.warns(UserWarning, match="1 raman spectra cover less"):
        load_rruff(tmp_path, outside="zero", **kw)


def test_a_parameter_of_the_other_pair_mode_is_refused(rruff_dir):
    # modality= with pair=True and require= with pair=False were ignored
    with pytest.raises(ValueError) as info:
        load_rruff(rruff_dir, modality="raman")
    assert str(info.value) == (
        "modality only applies with pair=False (the one modality loaded, a file "
        "per row); with pair=True every modality is loaded and require names "
        "those a sample must have. Got modality='raman' with pair=True."
    )
    with pytest.raises(ValueError) as info:
        load_rruff(rruff_dir, pair=False, modality="raman", require="xrd")
    assert str(info.value) == (
        "require only applies with pair=True (the modalities every paired sample "
        "must have); with pair=False, modality names the one modality loaded. "
        "Got require=('xrd',) with pair=False."
    )
    # the default, given or not, is no contradiction
    data = load_rruff(rruff_dir, pair=False, modality="raman", require=["ir", "raman"])
    assert data.data.shape == (3, 1024)
    data = load_rruff(rruff_dir, pair=False, modality="raman", require=("raman", "ir"))
    assert data.data.shape == (3, 1024)


@pytest.mark.parametrize(
    "params, message",
    [
        # "'NoneType' object is not iterable"
        (
            {"require": None},
            "require must be one of 'ir', 'raman', 'xrd' or a tuple of them; got None.",
        ),
        # numpy's "could not convert string to float", naming no parameter
        (
            {"ir_axis": "400-4000"},
            "ir_axis must be a 1-D array of numbers (the grid points, e.g. "
            "np.linspace(*(400.0, 4000.0, 1024))), got '400-4000'.",
        ),
        (
            {"raman_axis": ["150", "x"]},
            "raman_axis must be a 1-D array of numbers (the grid points, e.g. "
            "np.linspace(*(150.0, 1250.0, 1024))), got ['150', 'x'].",
        ),
        ({"pair": 1}, "pair must be True or False, got 1."),
    ],
)
def test_bad_parameters_are_named(rruff_dir, params, message):
    with pytest.raises(ValueError) as info:
        load_rruff(rruff_dir, **params)
    assert str(info.value) == message


def test_pair_takes_numpy_bools(rruff_dir, paired):
    # pair=np.True_ was refused while as_frame=np.True_ was accepted
    data = load_rruff(rruff_dir, pair=np.True_)
    assert list(data.rruff_ids) == list(paired.rruff_ids)
    np.testing.assert_array_equal(data.raman, paired.raman)
    one = load_rruff(rruff_dir, pair=np.False_, modality="raman")
    assert one.modality == "raman" and one.data.shape == (3, 1024)
