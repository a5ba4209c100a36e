import dataclasses
import json
import os
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayeslogreg as blr
from bayeslogreg import ConvergenceWarning, PointEstimate, Posterior, _arviz
from bayeslogreg.datasets import simulate
from bayeslogreg.estimators import _persist
from bayeslogreg.priors import Cauchy, Flat, Laplace, Normal, StudentT, prior_from_dict
from bayeslogreg.separation import Separation, detect_separation


@pytest.fixture(scope="module")
def data():
    return simulate(120, [1.0, -0.5, 0.0], intercept=0.3, seed=4)


@pytest.fixture(scope="module")
def mle(data):
    return blr.fit_mle(data.X, data.y, feature_names=["a", "b", "c"])


@pytest.fixture(scope="module")
def posterior(data):
    with warnings.catch_warnings():
        # 2 x 100 draws are too few for the ESS target; the file only has to hold them.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return blr.sample_posterior(
            data.X, data.y, num_chains=2, num_warmup=100, num_samples=100, seed=2
        )


def assert_identical(a, b):
    """Every dataclass field equal; arrays with the same dtype, shape and bytes."""
    assert type(a) is type(b)
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            assert (x.dtype, x.shape) == (y.dtype, y.shape), field.name
            assert x.tobytes() == y.tobytes(), field.name
        elif dataclasses.is_dataclass(x):
            assert_identical(x, y)
        else:
            assert type(x) is type(y) and x == y, field.name


# ---------------------------------------------------------------------------- PointEstimate


@pytest.mark.parametrize(
    "priors",
    [
        None,
        (Normal(0.0, 2.5), Normal(0.0, 10.0)),
        (Laplace(0.0, [0.5, 1.0, 2.0]), Flat()),
        (StudentT(3.0, [0.0, 0.5, -0.5], [1.0, 2.0, 3.0]), Cauchy(0.0, 5.0)),
    ],
    ids=["mle", "map-normal", "map-laplace-per-coef", "map-student-t-per-coef"],
)
def test_point_estimates_round_trip_exactly(data, mle, priors, tmp_path):
    fit = mle
    if priors is not None:
        fit = blr.fit_map(data.X, data.y, prior=priors[0], intercept_prior=priors[1])
    path = fit.save(tmp_path / "fit.json")
    assert path == tmp_path / "fit.json"
    back = PointEstimate.load(path)
    assert_identical(back, fit)
    pd.testing.assert_frame_equal(back.summary(), fit.summary(), check_exact=True)
    document = json.loads(path.read_text())
    assert document["format"] == "bayeslogreg.PointEstimate"
    assert document["format_version"] == _persist.FORMAT_VERSION
    assert document["bayeslogreg_version"] == blr.__version__
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_infinite_standard_errors_of_a_singular_fit_survive(data, tmp_path):
    X = data.X.copy()
    X[:, 2] = X[:, 0]  # the shape of the other fits, so that JAX compiles nothing new
    with pytest.warns(ConvergenceWarning, match="singular"):
        fit = blr.fit_mle(X, data.y)
    assert np.isinf(fit.cov).any()
    back = PointEstimate.load(fit.save(tmp_path / "singular.json"))
    assert_identical(back, fit)
    assert np.isinf(back.stderr).any()


def test_nan_negative_zero_and_float32_survive_in_strict_json(mle, tmp_path):
    fit = dataclasses.replace(
        mle,
        cov=np.array([[np.inf, -np.inf], [np.nan, -0.0]]),
        history=np.array(
            [np.finfo(np.float32).smallest_subnormal, np.nan, -np.inf, 3e38], np.float32
        ),
        log_posterior=np.nan,
        grad_norm=np.inf,
    )
    path = fit.save(tmp_path / "odd.json")
    json.loads(path.read_text(), parse_constant=pytest.fail)  # strict: no NaN literals
    back = PointEstimate.load(path)
    assert back.cov.tobytes() == fit.cov.tobytes()
    assert back.history.dtype == np.float32
    assert back.history.tobytes() == fit.history.tobytes()
    assert np.isnan(back.log_posterior) and back.grad_norm == np.inf


@pytest.mark.parametrize(
    "prior",
    [
        Normal(0.0, 2.5),
        Normal(-0.0, [1.0, 1e-300]),
        Laplace([0.0, 1.0], 0.5),
        StudentT(3.0, 0.0, [1.0, 2.0]),
        Cauchy(0.1, 1 / 3),
        Flat(),
    ],
)
def test_priors_round_trip_through_json_dicts(prior):
    back = prior_from_dict(json.loads(json.dumps(prior.to_dict(), allow_nan=False)))
    assert type(back) is type(prior) and back == prior


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "os.system", "loc": 0.0}, "one of"),
        ("Normal", "one of"),
        ({"name": "Normal", "loc": 0.0}, "takes the parameters"),
        ({"name": "Normal", "loc": 0.0, "scale": -1.0}, "must be > 0"),
    ],
)
def test_prior_from_dict_accepts_only_the_builtin_priors(spec, message):
    with pytest.raises(ValueError, match=message):
        prior_from_dict(spec)


def test_a_separation_round_trips_with_its_fit(mle, tmp_path):
    separation = detect_separation([[-2.0, 1.0], [-1.0, 0.0], [1.0, 3.0], [2.0, 1.0]], [0, 0, 1, 1])
    assert isinstance(separation, Separation)
    fit = dataclasses.replace(mle, separation=separation)
    back = PointEstimate.load(fit.save(tmp_path / "separated.json"))
    assert_identical(back, fit)
    assert type(back.separation.features) is tuple


# ------------------------------------------------------------------------------- Posterior


def test_posterior_round_trips_with_the_same_draws_and_summary(posterior, tmp_path):
    attrs_before = dict(posterior.idata.attrs)
    path = posterior.save(tmp_path / "posterior.nc")
    assert dict(posterior.idata.attrs) == attrs_before  # saving does not touch the data
    back = Posterior.load(path)
    assert type(back.idata) is type(posterior.idata)
    assert_identical(
        dataclasses.replace(back, idata=None), dataclasses.replace(posterior, idata=None)
    )
    pd.testing.assert_frame_equal(back.summary(), posterior.summary(), check_exact=True)
    for group in ("posterior", "sample_stats", "log_likelihood", "log_prior", "observed_data"):
        assert _arviz.has_group(back.idata, group)
    np.testing.assert_array_equal(
        _arviz.log_likelihood_draws(back.idata), _arviz.log_likelihood_draws(posterior.idata)
    )
    np.testing.assert_array_equal(
        _arviz.log_prior_draws(back.idata), _arviz.log_prior_draws(posterior.idata)
    )
    assert dict(back.idata.attrs) == attrs_before


def test_posterior_files_are_netcdf4_with_a_json_tag(posterior, tmp_path):
    path = posterior.save(tmp_path / "posterior.nc")
    with xr.open_dataset(path, engine="h5netcdf") as root:
        document = json.loads(root.attrs["bayeslogreg"])
    assert document["format"] == "bayeslogreg.Posterior"
    assert document["fields"]["map_estimate"]["name"] == "PointEstimate"
    assert document["fields"]["sampler"]["name"] == "NUTS"


def _save_with_document(posterior, path, document: str):
    """A Posterior file whose JSON document is ``document`` (as another version wrote it)."""
    path.write_bytes(_arviz.netcdf_bytes(posterior.idata, attrs={"bayeslogreg": document}))
    return path


def test_the_sampler_and_its_options_round_trip(data, tmp_path):
    sampler = blr.samplers.IMH(df=7.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        post = blr.sample_posterior(
            data.X, data.y, sampler=sampler, num_chains=2, num_warmup=5, num_samples=50
        )
    back = Posterior.load(post.save(tmp_path / "imh.nc"))
    assert back.sampler == sampler and type(back.sampler.df) is float
    assert back.sampler_name == "IMH"


def test_posterior_files_saved_before_the_sampler_was_recorded_still_load(
    data, posterior, tmp_path
):
    # Files of earlier versions hold the same document less the sampler field.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        imh = blr.sample_posterior(
            data.X, data.y, sampler="imh", num_chains=2, num_warmup=5, num_samples=50
        )
    for post, name in ((posterior, "NUTS"), (imh, "IMH")):
        document = _persist.dumps(post, exclude=("idata", "draws", "sampler"))
        back = Posterior.load(_save_with_document(post, tmp_path / f"{name}.nc", document))
        assert back.sampler is None and back.sampler_name == name
        assert back.draws.tobytes() == post.draws.tobytes()
        assert repr(back).startswith(f"Posterior({name}, 2 chains")


def test_a_damaged_sampler_entry_is_refused(posterior, tmp_path):
    document = json.loads(_persist.dumps(posterior, exclude=("idata", "draws")))
    document["fields"]["sampler"]["fields"]["target_accept"] = 2.0
    path = _save_with_document(posterior, tmp_path / "bad.nc", json.dumps(document))
    with pytest.raises(ValueError, match=r"damaged Posterior file: target_accept must be a"):
        Posterior.load(path)


def test_files_of_format_version_1_load_with_n_samples_as_n_rows(mle, posterior, tmp_path):
    # Format version 1 named the row count n_samples, a name now kept for draws.
    document = json.loads(_persist.dumps(mle))
    document["format_version"] = 1
    document["fields"]["n_samples"] = document["fields"].pop("n_rows")
    path = tmp_path / "old.json"
    path.write_text(json.dumps(document))
    back = PointEstimate.load(path)
    assert back.n_rows == mle.n_rows and np.array_equal(back.cov, mle.cov)
    document = json.loads(_persist.dumps(posterior, exclude=("idata", "draws", "sampler")))
    document["format_version"] = 1
    document["fields"]["n_samples"] = document["fields"].pop("n_rows")
    old = _save_with_document(posterior, tmp_path / "old.nc", json.dumps(document))
    assert Posterior.load(old).n_rows == posterior.n_rows


def test_n_samples_is_a_deprecated_name_of_n_rows(mle, posterior):
    for result in (mle, posterior):
        with pytest.warns(FutureWarning, match="now n_rows"):
            rows = result.n_samples
        assert rows == result.n_rows > 0


# ------------------------------------------------------------------------------- atomicity


def test_a_failed_point_save_leaves_the_old_file_and_no_temporary(mle, monkeypatch, tmp_path):
    path = mle.save(tmp_path / "fit.json")
    before = path.read_bytes()

    def fail(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)  # after the new content is in the temporary
    with pytest.raises(OSError, match="disk full"):
        dataclasses.replace(mle, seed=99).save(path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def test_a_failed_posterior_save_leaves_the_old_file_and_no_temporary(
    posterior, monkeypatch, tmp_path
):
    path = posterior.save(tmp_path / "posterior.nc")
    before = path.read_bytes()

    write = os.write

    def write_half_then_fail(fd, data):
        write(fd, data[: len(data) // 2])
        raise RuntimeError("killed mid-write")

    monkeypatch.setattr(os, "write", write_half_then_fail)
    with pytest.raises(RuntimeError, match="mid-write"):
        posterior.save(path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


# ---------------------------------------------------------------------------------- errors


def _write(path, content):
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        ('{"format": "bayeslogreg.PointEst', "cut short"),
        ('{"a": 1}', 'no "format": "bayeslogreg.PointEstimate" tag'),
        ("[1, 2, 3]", "tag"),
        ("x,y\n1,0\n", "not JSON"),
        ('{"format": "bayeslogreg.Posterior"}', "it holds a bayeslogreg.Posterior"),
        (b"\x89HDF\r\n\x1a\n\x00\x00", "not JSON"),
        ('{"format": "bayeslogreg.PointEstimate", "format_version": NaN}', "strict JSON"),
        ('{"format": "bayeslogreg.PointEstimate", "format_version": "1"}', "format_version"),
        (
            '{"format": "bayeslogreg.PointEstimate", "format_version": 1, "fields": '
            '{"estimator": {"type": "dataclass", "name": "Popen", "fields": {}}}}',
            "damaged PointEstimate file: unknown entry",
        ),
    ],
    ids=[
        "empty",
        "truncated",
        "foreign-json",
        "json-list",
        "csv",
        "posterior-tag",
        "binary",
        "nan-literal",
        "bad-version",
        "unregistered-class",
    ],
)
def test_point_load_refuses_what_it_did_not_write(content, message, tmp_path):
    path = _write(tmp_path / "file.json", content)
    with pytest.raises(ValueError, match=message) as caught:
        PointEstimate.load(path)
    assert str(path) in str(caught.value)


def test_point_load_refuses_a_truncated_file_and_changed_fields(mle, tmp_path):
    text = mle.save(tmp_path / "fit.json").read_text()
    cut = _write(tmp_path / "cut.json", text[: len(text) // 2])
    with pytest.raises(ValueError, match="cut short"):
        PointEstimate.load(cut)
    document = json.loads(text)
    document["fields"]["surprise"] = 1
    del document["fields"]["cov"]
    changed = _write(tmp_path / "changed.json", json.dumps(document))
    with pytest.raises(ValueError, match=r"unknown \['surprise'\], missing \['cov'\]"):
        PointEstimate.load(changed)


def test_files_of_a_newer_format_version_are_refused(mle, posterior, monkeypatch, tmp_path):
    newer = _persist.FORMAT_VERSION + 1
    monkeypatch.setattr(_persist, "FORMAT_VERSION", newer)
    point, post = mle.save(tmp_path / "fit.json"), posterior.save(tmp_path / "posterior.nc")
    monkeypatch.undo()
    with pytest.raises(ValueError, match=f"format version {newer} .*Upgrade bayeslogreg"):
        PointEstimate.load(point)
    with pytest.raises(ValueError, match=f"format version {newer} .*Upgrade bayeslogreg"):
        Posterior.load(post)


def test_posterior_load_refuses_what_it_did_not_write(mle, posterior, tmp_path):
    saved = posterior.save(tmp_path / "posterior.nc").read_bytes()
    foreign = tmp_path / "foreign.nc"
    xr.Dataset({"v": ("x", np.arange(3.0))}).to_netcdf(foreign, engine="h5netcdf")
    cases = {
        _write(tmp_path / "empty.nc", b""): "is empty",
        _write(tmp_path / "cut.nc", saved[: len(saved) // 2]): "cannot be read as NetCDF4",
        _write(tmp_path / "table.csv", "x,y\n1,0\n"): "not a NetCDF4",
        mle.save(tmp_path / "fit.json"): "not a NetCDF4",
        foreign: "lacks the 'bayeslogreg' attribute",
    }
    for path, message in cases.items():
        with pytest.raises(ValueError, match=message) as caught:
            Posterior.load(path)
        assert str(path) in str(caught.value)


def test_missing_files_raise_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        PointEstimate.load(tmp_path / "missing.json")
    with pytest.raises(FileNotFoundError):
        Posterior.load(tmp_path / "missing.nc")


def test_loading_never_unpickles(mle, posterior, monkeypatch, tmp_path):
    point, post = mle.save(tmp_path / "fit.json"), posterior.save(tmp_path / "posterior.nc")

    def refuse(*args, **kwargs):
        raise AssertionError("a loader unpickled")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(np, "load", refuse)
    assert_identical(PointEstimate.load(point), mle)
    assert Posterior.load(post).draws.tobytes() == posterior.draws.tobytes()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("converged", "no", "converged must be bool; got str 'no'"),
        ("n_iter", 1.5, "n_iter must be int; got float 1.5"),
        ("n_iter", True, "n_iter must be int; got bool True"),
        ("feature_names", [1, 2], r"feature_names must be tuple\[str, \.\.\.\]"),
        ("log_likelihood", "-3.5", "log_likelihood must be float; got str"),
        ("message", None, "message must be str; got NoneType"),
    ],
)
def test_every_field_of_a_saved_file_is_checked_for_its_type(mle, tmp_path, field, value, message):
    document = json.loads(_persist.dumps(mle))
    document["fields"][field] = value
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=f"damaged PointEstimate file: {message}"):
        PointEstimate.load(path)


def test_a_nested_entry_of_the_wrong_type_is_refused(data, tmp_path):
    with pytest.warns(blr.SeparationWarning):
        fit = blr.fit_mle([[-2.0], [-1.0], [1.0], [2.0]], [0, 0, 1, 1])
    document = json.loads(_persist.dumps(fit))
    document["fields"]["separation"]["fields"]["n_tied"] = "0"
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="n_tied must be int; got str"):
        PointEstimate.load(path)
