"""Tests of gan_estimators.datasets: digits, MNIST / Fashion-MNIST IDX loading, extract_class.

Real data come from the ``shared_data_dir`` fixture; every other file is written here.  An
autouse fixture points HOME, KERAS_HOME, GAN_ESTIMATORS_DATA and the Debian folder into
``tmp_path`` and replaces the Keras downloader, so no test reads the user's caches or touches
the network.
"""

import gzip
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gan_estimators import datasets
from gan_estimators.datasets import (
    DataNotFoundError,
    extract_class,
    load_digits_images,
    load_mnist,
)

MNIST_TRAIN_HIST = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_HIST = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

# --------------------------------------------------------------------------------------------
# helpers


def idx_bytes(array):
    """Encode a uint8 array as an IDX file (magic 0x0800 + ndim, big-endian dims, payload)."""
    array = np.asarray(array, dtype=np.uint8)
    header = (0x0800 + array.ndim).to_bytes(4, "big")
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write_idx(path, array, compress=None):
    """Write ``array`` as IDX to ``path``; gzip it when ``compress`` (default: a .gz name)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = idx_bytes(array)
    if compress is None:
        compress = path.suffix == ".gz"
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def make_set(n, label=0, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = np.full(n, label, dtype=np.uint8)
    return images, labels


def write_split(folder, split="train", n=3, label=0, compress=True, seed=0):
    """Write a small valid split into ``folder``; return (images_path, labels_path, arrays)."""
    prefix = {"train": "train", "test": "t10k"}[split]
    ext = ".gz" if compress else ""
    images, labels = make_set(n, label, seed)
    images_path = write_idx(Path(folder) / f"{prefix}-images-idx3-ubyte{ext}", images, compress)
    labels_path = write_idx(Path(folder) / f"{prefix}-labels-idx1-ubyte{ext}", labels, compress)
    return images_path, labels_path, (images, labels)


def write_keras_npz(path, n=3, label=0):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    x_train, y_train = make_set(n, label)
    x_test, y_test = make_set(n + 1, label, seed=1)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


class Downloader:
    """Stands in for the Keras download: records calls, fails (or returns ``result``)."""

    def __init__(self, result=None):
        self.calls = []
        self.result = result

    def __call__(self, kind):
        self.calls.append(kind)
        if self.result is None:
            raise OSError("network disabled in tests")
        return self.result


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No user cache, no environment configuration, no Debian folder, no network."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)
    debian = tmp_path / "debian" / "fashion-mnist"
    monkeypatch.setattr(datasets, "_DEBIAN_FASHION_DIR", str(debian))
    downloader = Downloader()
    monkeypatch.setattr(datasets, "_download_with_keras", downloader)
    return {"home": home, "debian": debian, "keras": home / ".keras" / "datasets", "dl": downloader}


# --------------------------------------------------------------------------------------------
# the real files


@pytest.fixture(scope="module")
def real(shared_data_dir):
    cache = {}

    def get(kind, split):
        if (kind, split) not in cache:
            cache[kind, split] = load_mnist(
                kind, split, data_home=shared_data_dir, download_if_missing=False
            )
        return cache[kind, split]

    return get


@pytest.mark.parametrize(
    "kind, split, n, hist, first",
    [
        ("mnist", "train", 60000, MNIST_TRAIN_HIST, [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]),
        ("mnist", "test", 10000, MNIST_TEST_HIST, None),
        ("fashion", "train", 60000, [6000] * 10, [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]),
        ("fashion", "test", 10000, [1000] * 10, None),
    ],
)
def test_real_files(real, kind, split, n, hist, first):
    images, labels = real(kind, split)
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == hist
    if first is not None:
        assert labels[:10].tolist() == first
    assert images.flags.writeable and labels.flags.writeable
    assert images.min() == 0 and images.max() == 255


def test_real_pixel_means(real):
    # PROVENANCE.md's decode checks.
    assert real("mnist", "train")[0].mean() == pytest.approx(33.318, abs=1e-3)
    assert real("fashion", "test")[0].mean() == pytest.approx(73.147, abs=1e-3)


def test_as_float_scales_to_unit_interval(shared_data_dir, real):
    images, labels = load_mnist("mnist", "test", data_home=shared_data_dir, as_float=True)
    raw, raw_labels = real("mnist", "test")
    assert images.dtype == np.float32 and images.shape == raw.shape
    assert images.min() == 0.0 and images.max() == 1.0
    np.testing.assert_allclose(images, raw / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(labels, raw_labels)


def test_other_kind_in_flat_folder_is_refused(shared_data_dir, tmp_path):
    # MNIST and Fashion-MNIST share file names, so a flat folder cannot tell them apart.
    flat = tmp_path / "flat"
    flat.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(shared_data_dir / "fashion" / name, flat / name)
    with pytest.raises(ValueError, match=r"official Fashion-MNIST test labels.*kind='mnist'"):
        load_mnist("mnist", "test", data_home=flat)
    images, _ = load_mnist("fashion", "test", data_home=flat)
    assert images.shape == (10000, 28, 28)


# --------------------------------------------------------------------------------------------
# where load_mnist looks


@pytest.mark.parametrize("kind", ["mnist", "fashion"])
def test_lookup_order(kind, tmp_path, monkeypatch, isolated):
    # Each place holds a different number of images, which says where the result came from.
    data_home, env_dir = tmp_path / "data_home", tmp_path / "env"
    write_split(data_home / kind, n=2)
    write_split(env_dir, n=3)
    monkeypatch.setenv(datasets.ENV_VAR, str(env_dir))
    if kind == "mnist":
        write_keras_npz(isolated["keras"] / "mnist.npz", n=4)
    else:
        write_split(isolated["keras"] / "fashion-mnist", n=4)
        write_split(isolated["debian"], n=5)

    def n_loaded(**kwargs):
        return len(load_mnist(kind, "train", **kwargs)[0])

    assert n_loaded(data_home=data_home) == 2
    assert n_loaded() == 3
    assert n_loaded(data_home=tmp_path / "empty") == 3
    monkeypatch.delenv(datasets.ENV_VAR)
    assert n_loaded() == 4
    if kind == "fashion":
        shutil.rmtree(isolated["keras"] / "fashion-mnist")
        assert n_loaded() == 5
    assert isolated["dl"].calls == []


def test_subfolder_beats_flat_folder_and_fashion_mnist_subfolder(tmp_path):
    write_split(tmp_path / "mnist", n=2)
    write_split(tmp_path, n=3)
    write_split(tmp_path / "fashion-mnist", n=4)
    assert len(load_mnist("mnist", data_home=tmp_path)[0]) == 2
    assert len(load_mnist("fashion", data_home=tmp_path)[0]) == 4
    write_split(tmp_path / "fashion", n=5)
    assert len(load_mnist("fashion", data_home=tmp_path)[0]) == 5


def test_env_var_flat_layout_and_str_or_path_data_home(tmp_path, monkeypatch):
    write_split(tmp_path, split="test", n=6)
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path))
    assert len(load_mnist("fashion", "test")[0]) == 6
    monkeypatch.delenv(datasets.ENV_VAR)
    assert len(load_mnist("mnist", "test", data_home=str(tmp_path))[0]) == 6


def test_data_home_expands_user(isolated):
    write_split(isolated["home"] / "digits" / "mnist", n=2)
    assert len(load_mnist(data_home="~/digits")[0]) == 2


def test_keras_home_and_keras_npz_splits(tmp_path, monkeypatch):
    keras_home = tmp_path / "kh"
    write_keras_npz(keras_home / "datasets" / "mnist.npz", n=3, label=7)
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    images, labels = load_mnist("mnist", "train")
    assert images.shape == (3, 28, 28) and labels.tolist() == [7, 7, 7]
    assert load_mnist("mnist", "test")[0].shape == (4, 28, 28)


def test_partial_folder_is_skipped_and_reported(tmp_path, isolated):
    _, labels_path, _ = write_split(tmp_path / "mnist", n=2)
    labels_path.unlink()
    with pytest.raises(DataNotFoundError) as info:
        load_mnist("mnist", data_home=tmp_path, download_if_missing=False)
    assert "has train-images-idx3-ubyte.gz but no train-labels-idx1-ubyte[.gz]" in str(info.value)
    write_split(isolated["keras"] / "fashion-mnist", n=3)
    (tmp_path / "fashion").mkdir()
    write_idx(tmp_path / "fashion" / "train-labels-idx1-ubyte.gz", np.zeros(2, np.uint8))
    assert len(load_mnist("fashion", data_home=tmp_path)[0]) == 3


# --------------------------------------------------------------------------------------------
# file formats


def test_uncompressed_files(tmp_path):
    _, _, (images, labels) = write_split(tmp_path, split="test", n=4, label=3, compress=False)
    got_images, got_labels = load_mnist("mnist", "test", data_home=tmp_path)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_gz_name_with_uncompressed_content(tmp_path):
    # Browsers sometimes decompress a download but keep the .gz name.
    prefix = tmp_path / "train"
    images, labels = make_set(2, label=1)
    write_idx(Path(f"{prefix}-images-idx3-ubyte.gz"), images, compress=False)
    write_idx(Path(f"{prefix}-labels-idx1-ubyte.gz"), labels, compress=False)
    np.testing.assert_array_equal(load_mnist(data_home=tmp_path)[0], images)


def test_dotted_names_from_gzip_headers(tmp_path):
    images, labels = make_set(2, label=4)
    write_idx(tmp_path / "t10k-images.idx3-ubyte", images)
    write_idx(tmp_path / "t10k-labels.idx1-ubyte", labels)
    assert load_mnist("mnist", "test", data_home=tmp_path)[1].tolist() == [4, 4]


def test_gzip_preferred_over_uncompressed_in_same_folder(tmp_path):
    write_split(tmp_path, n=2, compress=True)
    write_split(tmp_path, n=3, compress=False)
    assert len(load_mnist(data_home=tmp_path)[0]) == 2


# --------------------------------------------------------------------------------------------
# corrupt files


def _corrupt(tmp_path, which, data):
    """A valid train split in tmp_path whose images or labels file is replaced by ``data``."""
    images_path, labels_path, _ = write_split(tmp_path, n=3)
    target = images_path if which == "images" else labels_path
    target.write_bytes(data)
    return target


def _valid(which, n=3):
    images, labels = make_set(n)
    return idx_bytes(images if which == "images" else labels)


CORRUPTIONS = {
    "bad gzip": (
        "images",
        lambda: b"\x1f\x8b" + b"not really gzip" * 4,
        "corrupt or truncated gzip",
    ),
    "truncated gzip": ("labels", lambda: gzip.compress(_valid("labels"))[:-12], "truncated gzip"),
    "bad magic": ("images", lambda: b"\x00\x00\x08\x04" + _valid("images")[4:], "magic number"),
    "labels as images": ("images", lambda: _valid("labels"), "0x00000801, expected 0x00000803"),
    "empty": ("labels", lambda: b"", "too short for a magic number"),
    "short header": ("images", lambda: _valid("images")[:10], "truncated IDX header"),
    "short payload": ("images", lambda: _valid("images")[:-1], "truncated IDX file"),
    "trailing bytes": ("labels", lambda: _valid("labels") + b"\x00\x00", "2 unexpected trailing"),
    "count mismatch": ("labels", lambda: _valid("labels", n=4), "3 images but .* 4 labels"),
    "not 28x28": ("images", lambda: idx_bytes(np.zeros((3, 28, 27), np.uint8)), r"\(28, 27\)"),
    "label out of range": (
        "labels",
        lambda: idx_bytes(np.array([0, 10, 1], np.uint8)),
        "value 10 at index 1",
    ),
}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
@pytest.mark.parametrize("compress", [False, True])
def test_corrupt_files_raise_value_error_naming_the_file(case, compress, tmp_path):
    which, make, message = CORRUPTIONS[case]
    data = make()
    if compress and not data.startswith(b"\x1f\x8b"):
        data = gzip.compress(data)
    path = _corrupt(tmp_path, which, data)
    with pytest.raises(ValueError, match=message) as info:
        load_mnist(data_home=tmp_path)
    assert str(path) in str(info.value)


def test_corrupt_file_is_not_skipped_for_a_later_place(tmp_path, monkeypatch):
    _corrupt(tmp_path / "home_dir", "images", _valid("images")[:-5])
    write_split(tmp_path / "env", n=2)
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path / "env"))
    with pytest.raises(ValueError, match="truncated"):
        load_mnist(data_home=tmp_path / "home_dir")


def test_corrupt_or_foreign_keras_npz(isolated):
    path = isolated["keras"] / "mnist.npz"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 truncated zip")
    with pytest.raises(ValueError, match=r"corrupt or truncated \.npz") as info:
        load_mnist()
    assert str(path) in str(info.value)
    np.savez(path, x_train=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match=r"lacks \['y_train'\]"):
        load_mnist()
    np.savez(path, x_train=np.zeros((2, 28, 28), np.uint8), y_train=np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match="count mismatch"):
        load_mnist()


# --------------------------------------------------------------------------------------------
# missing data, downloads, arguments


def test_missing_data_error_lists_every_place(tmp_path, isolated, monkeypatch):
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path / "env"))
    with pytest.raises(DataNotFoundError) as info:
        load_mnist("fashion", "test", data_home=tmp_path / "dh", download_if_missing=False)
    error = info.value
    assert isinstance(error, FileNotFoundError)
    message = str(error)
    places = [
        tmp_path / "dh" / "fashion",
        tmp_path / "dh" / "fashion-mnist",
        tmp_path / "dh",
        tmp_path / "env" / "fashion",
        tmp_path / "env" / "fashion-mnist",
        tmp_path / "env",
        isolated["keras"] / "fashion-mnist",
        isolated["debian"],
    ]
    positions = [message.index(f"{place}{os.sep} (no such folder)") for place in places]
    assert positions == sorted(positions)
    assert len(error.searched) == len(places)
    assert "Download through Keras: off (pass download_if_missing=True" in message
    assert "data_home=FOLDER" in message and "GAN_ESTIMATORS_DATA=FOLDER" in message
    assert "t10k-images-idx3-ubyte.gz" in message
    assert isolated["dl"].calls == []


def test_nothing_is_downloaded_unless_asked(isolated):
    with pytest.raises(DataNotFoundError, match="download_if_missing=True"):
        load_mnist("mnist", "train")
    assert isolated["dl"].calls == []


def test_missing_data_after_failed_download(isolated):
    with pytest.raises(DataNotFoundError) as info:
        load_mnist("mnist", "train", download_if_missing=True)
    message = str(info.value)
    assert isolated["dl"].calls == ["mnist"]
    assert "data_home: not given" in message and "$GAN_ESTIMATORS_DATA: not set" in message
    assert f"{isolated['keras'] / 'mnist.npz'} (no such file)" in message
    assert "failed (OSError: network disabled in tests)" in message
    assert isinstance(info.value.__cause__, OSError)
    assert "Debian" not in message  # only Fashion-MNIST is packaged there


def test_keras_tmp_fallback_is_searched_when_keras_home_is_not_writable(monkeypatch):
    monkeypatch.setattr(datasets, "_writable_or_creatable", lambda path: False)
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(download_if_missing=False)
    assert os.path.join("/tmp", ".keras", "datasets", "mnist.npz") in str(info.value)


def test_download_used_only_when_nothing_is_found(isolated):
    train, test = make_set(2, label=5), make_set(3, label=6)
    isolated["dl"].result = (train, test)
    images, labels = load_mnist("fashion", "test", as_float=True, download_if_missing=True)
    assert isolated["dl"].calls == ["fashion"]
    assert images.dtype == np.float32 and labels.tolist() == [6, 6, 6]
    isolated["dl"].result = ((np.zeros((2, 28, 28), np.uint8), np.zeros(3, np.uint8)), test)
    with pytest.raises(ValueError, match="Keras download of MNIST train"):
        load_mnist("mnist", "train", download_if_missing=True)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "emnist"}, r"kind must be one of \['fashion', 'mnist'\], got 'emnist'"),
        ({"split": "validation"}, r"split must be one of \['test', 'train'\], got 'validation'"),
    ],
)
def test_bad_kind_or_split(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_mnist(**kwargs)


def test_import_does_not_import_tensorflow_or_keras():
    code = (
        "import sys, gan_estimators.datasets; "
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; "
        "sys.exit(str(bad) if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------------------------
# digits and extract_class


def test_load_digits_images():
    from sklearn.datasets import load_digits

    bunch = load_digits_images()
    X, y = load_digits_images(return_X_y=True)
    assert X.shape == (1797, 8, 8, 1) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert y.shape == (1797,) and sorted(set(y.tolist())) == list(range(10))
    reference = load_digits()
    np.testing.assert_array_equal(X[..., 0], reference.images / 16.0)
    np.testing.assert_array_equal(y, reference.target)
    np.testing.assert_array_equal(bunch.data, X)
    assert bunch.images is bunch.data
    np.testing.assert_array_equal(bunch.target, y)
    assert bunch.target_names.tolist() == list(range(10)) and "8x8" in bunch.DESCR


def test_extract_class():
    X, y = load_digits_images(return_X_y=True)
    threes = extract_class(X, y, 3)
    assert threes.shape == (int(np.sum(y == 3)), 8, 8, 1)
    np.testing.assert_array_equal(threes, X[y == 3])
    assert extract_class([[1], [2], [3]], ["a", "b", "a"], "a").tolist() == [[1], [3]]


@pytest.mark.parametrize(
    "X, y, label, message",
    [
        (np.zeros((3, 2)), [0, 1, 1], 2, r"label 2 does not occur in y; labels present: \[0, 1\]"),
        (np.zeros((3, 2)), [0, 1], 0, "same length, got 3 samples and 2"),
        (np.zeros((3, 2)), np.zeros((3, 1)), 0, "y must be 1-D"),
        (np.zeros((3, 2)), [0, 1, 1], [0, 1], "single class label"),
    ],
)
def test_extract_class_errors(X, y, label, message):
    with pytest.raises(ValueError, match=message):
        extract_class(X, y, label)


# --------------------------------------------------------------------------------------------
# properties of the IDX reader

small_arrays = st.integers(1, 3).flatmap(
    lambda ndim: hnp.arrays(
        np.uint8, hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=0, max_side=6)
    )
)


@settings(max_examples=60, deadline=None)
@given(array=small_arrays, compress=st.booleans())
def test_idx_round_trip(array, compress):
    with tempfile.TemporaryDirectory() as folder:
        path = write_idx(Path(folder) / "a.idx", array, compress)
        got = datasets._read_idx(path, 0x0800 + array.ndim)
    assert got.dtype == np.uint8 and got.shape == array.shape
    np.testing.assert_array_equal(got, array)


@settings(max_examples=60, deadline=None)
@given(array=small_arrays, compress=st.booleans(), data=st.data())
def test_idx_truncation_always_raises(array, compress, data):
    encoded = idx_bytes(array)
    if compress:
        encoded = gzip.compress(encoded)
    cut = data.draw(st.integers(0, len(encoded) - 1), label="cut")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.idx"
        path.write_bytes(encoded[:cut])
        with pytest.raises(ValueError, match=r"a\.idx"):
            datasets._read_idx(path, 0x0800 + array.ndim)
