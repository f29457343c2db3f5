"""The default feature map and the metrics rank degraded samples correctly on real data.

For MNIST digit 5 and Fashion-MNIST class 7: the feature map is fitted on the class's training
split; the reference is 800 training images; every candidate is 800 images built from the test
split (MNIST has 892 test fives).  Images are floats in [0, 1].  Candidates, from best to worst:

- held-out real: the test images themselves;
- noise: held-out + N(0, 0.1²) per pixel;
- blurred: held-out through a Gaussian blur of σ = 0.7 px;
- 10 repeated: 10 distinct test images, each repeated 80 times;
- uniform: U(0, 1) noise.

FD and KID must order them strictly; coverage must fall from held-out to noise to 10 repeated
to uniform (blur is exempt: blurred digits stay inside the real data's neighbourhoods -- they
are less sharp, not fewer -- and coverage measures mode dropping); one image repeated 800 times
must have recall ≈ 0 and duplicate fraction 1; held-out real data must be within 2× of the
real-vs-real floor (two disjoint training subsets) on FD.
"""

import time

import numpy as np
import pytest
from _generative_fakes import FakeGenerator
from scipy import ndimage
from threadpoolctl import threadpool_limits

from gan_estimators.datasets import extract_class, load_mnist
from gan_estimators.quality import metrics as M
from gan_estimators.quality.features import resolve_feature_map

N = 800
ORDER = ("heldout", "noise", "blurred", "repeated10", "uniform")
DATASETS = {"mnist": 5, "fashion": 7}


def _load(folder, kind, label, split):
    X, y = load_mnist(kind, split, data_home=folder / kind, download_if_missing=False)
    return extract_class(X, y, label).astype(np.float64) / 255.0


@pytest.fixture(scope="module", params=sorted(DATASETS))
def evaluation(request, shared_data_dir):
    kind = request.param
    label = DATASETS[kind]
    rng = np.random.default_rng(0)
    train = _load(shared_data_dir, kind, label, "train")
    test = _load(shared_data_dir, kind, label, "test")
    train = train[rng.permutation(len(train))]
    test = test[rng.permutation(len(test))]

    heldout = test[:N]
    candidates = {
        "floor": train[N : 2 * N],
        "heldout": heldout,
        "noise": heldout + rng.normal(0.0, 0.1, heldout.shape),
        "blurred": np.stack([ndimage.gaussian_filter(image, 0.7) for image in heldout]),
        "repeated10": np.tile(heldout[:10], (N // 10, 1, 1)),
        "uniform": rng.uniform(0.0, 1.0, heldout.shape),
        "repeated1": np.repeat(heldout[:1], N, axis=0),
    }
    # Small matrices: a multi-threaded BLAS only loses time on a busy 2-core machine.
    with threadpool_limits(1, user_api="blas"):
        feature_map = resolve_feature_map("auto", train, random_state=0)
        reference = feature_map.transform(train[:N])
        results = {
            name: M.compute_metrics(reference, feature_map.transform(images))
            for name, images in candidates.items()
        }
    # Printed with -s: the validation evidence quoted in the docs.
    for name, values in results.items():
        summary = ", ".join(f"{metric}={value:.4g}" for metric, value in values.items())
        print(f"\n{kind}: {name}: {summary}", end="")
    return kind, results


@pytest.mark.parametrize("metric", ["fd", "kid"])
def test_fd_and_kid_order_degradations(evaluation, metric):
    kind, results = evaluation
    values = [results[name][metric] for name in ORDER]
    assert values == sorted(values), f"{kind} {metric}: {dict(zip(ORDER, values, strict=True))}"
    assert len(set(values)) == len(values)


def test_coverage_falls_with_mode_dropping_and_noise(evaluation):
    kind, results = evaluation
    coverage = {name: results[name]["coverage"] for name in results}
    assert coverage["heldout"] > coverage["noise"] > coverage["repeated10"] > coverage["uniform"]
    assert coverage["blurred"] > coverage["repeated10"], kind
    assert coverage["heldout"] > 0.9


def test_single_repeated_image(evaluation):
    _, results = evaluation
    assert results["repeated1"]["recall"] <= 0.01
    assert results["repeated1"]["duplicate_fraction"] == 1.0
    assert results["repeated10"]["duplicate_fraction"] == 1.0


def test_heldout_within_twice_the_real_floor(evaluation):
    _, results = evaluation
    floor = results["floor"]["fd"]
    assert results["heldout"]["fd"] <= 2.0 * floor
    assert results["heldout"]["duplicate_fraction"] < 0.05
    assert 0.9 < results["heldout"]["diversity"] < 1.1


def test_score_of_1000_mnist_images_is_fast(shared_data_dir):
    """score() for 1,000 28x28 images, sampling excluded: under 1 s (measured ~0.03 s)."""
    train = _load(shared_data_dir, "mnist", 5, "train")
    test = _load(shared_data_dir, "mnist", 5, "test")
    images = np.concatenate([test, test[:108]])[:1000]
    estimator = FakeGenerator(random_state=0).fit(train)
    estimator.sample = lambda n, random_state=None: images[:n]  # sampling-free
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        score = estimator.score(images[::-1].copy())
        timings.append(time.perf_counter() - start)
    print(f"\nscore() on 1000 MNIST images: best {min(timings):.3f} s, worst {max(timings):.3f} s")
    assert np.isfinite(score)
    assert min(timings) < 1.0
