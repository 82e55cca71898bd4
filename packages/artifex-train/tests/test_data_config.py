"""DataConfig -> source and pipeline."""

import numpy as np
import pytest

from artifex.generative_models.core.configuration import DataConfig
from artifex.generative_models.training.data import (
    DigitsSource,
    NpySource,
    NpzSource,
    UnpairedSource,
    pipeline_from_config,
    source_from_config,
)


def test_default_config_is_the_training_digits():
    source = source_from_config(DataConfig())
    assert isinstance(source, DigitsSource) and len(source) == 1438
    assert source.image_shape == (8, 8, 1) and source.labels is None  # use_labels=False
    conditional = source_from_config(
        DataConfig(use_labels=True, image_size=16, channels=3, max_examples=100),
        model_layout="NCHW",
    )
    assert conditional.image_shape == (3, 16, 16) and len(conditional) == 100
    assert conditional.num_classes == 10
    explicit = source_from_config(DataConfig(layout="NHWC"), model_layout="NCHW")
    assert explicit.layout == "NHWC"
    assert len(source_from_config(DataConfig(), split="test")) == 359


def test_array_sources_and_two_domains(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, size=(6, 4, 4, 3), dtype=np.uint8)
    np.savez(tmp_path / "a.npz", x=pixels, y=np.arange(6) % 3)
    config = DataConfig(
        source="npz",
        path=str(tmp_path / "a.npz"),
        images_key="x",
        labels_key="y",
        use_labels=True,
        value_range=(0.0, 1.0),
        source_layout="NHWC",
    )
    source = source_from_config(config)
    assert isinstance(source, NpzSource) and source.num_classes == 3
    np.testing.assert_allclose(source[5]["image"], pixels[5] / 255, atol=1e-6)
    np.save(tmp_path / "b.npy", pixels[:4])
    pair = source_from_config(config.replace(domain_b_path=str(tmp_path / "a.npz")))
    assert isinstance(pair, UnpairedSource) and len(pair) == 6
    npy = source_from_config(
        DataConfig(source="npy", path=str(tmp_path / "b.npy"), source_layout="NHWC")
    )
    assert isinstance(npy, NpySource) and len(npy) == 4
    with pytest.raises(FileNotFoundError, match="holds no train-images-idx3-ubyte"):
        source_from_config(DataConfig(source="mnist_idx", path=str(tmp_path)))
    with pytest.raises(ValueError, match="split='all' applies to source='digits' only"):
        source_from_config(config, split="all")
    with pytest.raises(TypeError, match="data_config must be a DataConfig, got dict"):
        source_from_config({"source": "digits"})


def test_pipeline_from_config_uses_batch_seed_and_shuffle():
    config = DataConfig(batch_size=16, seed=3)
    source = source_from_config(config.replace(use_labels=True))
    first = next(pipeline_from_config(config, source))
    again = next(pipeline_from_config(config, source))
    assert first["image"].shape == (16, 8, 8, 1) and np.array_equal(first["label"], again["label"])
    ordered = next(pipeline_from_config(config.replace(shuffle=False), source))
    assert np.array_equal(ordered["label"], source.labels[:16])
    halves = [
        next(pipeline_from_config(config, source, shard_index=i, shard_count=2)) for i in range(2)
    ]
    assert [h["image"].shape[0] for h in halves] == [8, 8]
