"""The Trainer trains every family: conditional, StyleGAN, ProgressiveGAN, CycleGAN; bf16.

Networks are a few channels wide and runs a few iterations long: these tests check that
the right losses are computed on the right data, not that the models learn.
"""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    CheckpointConfig,
    ConditionalDiscriminatorConfig,
    ConditionalGANConfig,
    ConditionalGeneratorConfig,
    ConditionalParams,
    DiscriminatorConfig,
    GANConfig,
    GeneratorConfig,
    LoggingConfig,
    PrecisionConfig,
    ProgressiveGANConfig,
    ProgressiveGeneratorConfig,
    StyleGANConfig,
    StyleGANGeneratorConfig,
    TrainingConfig,
)
from artifex.generative_models.models.gan import (
    GAN,
    ConditionalGAN,
    CycleGAN,
    ProgressiveGAN,
    ProgressiveRules,
    StyleGAN,
)
from artifex.generative_models.training.trainer import Trainer


class Images:
    """Endless batches of random images in [-1, 1] (and labels, or two domains)."""

    def __init__(self, shape, batch=4, labels=None, domains=False, seed=0):
        self.rng = np.random.default_rng(seed)
        self.shape, self.batch, self.labels, self.domains = shape, batch, labels, domains

    def _images(self):
        return self.rng.uniform(-1, 1, (self.batch, *self.shape)).astype(np.float32)

    def __next__(self):
        if self.domains:
            return {"image_a": self._images(), "image_b": self._images()}
        batch = {"image": self._images()}
        if self.labels is not None:
            batch["label"] = self.rng.integers(0, self.labels, self.batch)
        return batch


def training(steps=2, k=2, **changes):
    return TrainingConfig(
        steps=steps,
        steps_per_dispatch=k,
        logging=LoggingConfig(log_every=k),
        checkpoint=CheckpointConfig(every_n_steps=1000, save_final=False),
        **changes,
    )


def params_of(module):
    return jax.tree.map(np.asarray, nnx.state(module, nnx.Param))


def moved(before, after):
    """Whether every parameter array changed (all were trained)."""
    return all(
        not np.array_equal(b, a)
        for b, a in zip(jax.tree.leaves(before), jax.tree.leaves(after), strict=True)
    )


def test_conditional_gan_trains_on_images_with_labels(tmp_path):
    labels = ConditionalParams(num_classes=3, embedding_dim=4)
    shape = (6, 6, 1)
    model = ConditionalGAN(
        ConditionalGANConfig(
            generator=ConditionalGeneratorConfig(
                hidden_dims=(8,),
                output_shape=shape,
                latent_dim=4,
                conditional=labels,
                data_format="NHWC",
            ),
            discriminator=ConditionalDiscriminatorConfig(
                hidden_dims=(8,), input_shape=shape, conditional=labels, data_format="NHWC"
            ),
        ),
        rngs=nnx.Rngs(0),
    )
    before = params_of(model.generator)
    trainer = Trainer(model, Images(shape, labels=3), training(), workdir=tmp_path)
    trainer.fit()
    assert moved(before, params_of(model.generator))
    assert np.isfinite(trainer.history[-1]["d_loss"])

    # A label outside [0, num_classes) is refused before anything runs.
    bad = Images(shape, labels=5, seed=3)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\).*from 0 to 4"):
        Trainer(model, bad, training(), workdir=tmp_path / "bad").fit()
    with pytest.raises(ValueError, match=r"has no 'label' entry.*trains on image, label"):
        Trainer(model, Images(shape), training(), workdir=tmp_path / "none").fit()


def test_images_of_the_wrong_shape_are_refused_before_compiling(tmp_path):
    model = GAN(
        GANConfig(
            generator=GeneratorConfig(hidden_dims=(8,), output_shape=(4,), latent_dim=2),
            discriminator=DiscriminatorConfig(hidden_dims=(8,)),
        ),
        rngs=nnx.Rngs(0),
    )
    trainer = Trainer(model, Images((5,)), training(), workdir=tmp_path)
    with pytest.raises(ValueError, match=r"examples of shape \(5,\); the model expects \(4,\)"):
        trainer.fit()
    assert trainer.step == 0


def _stylegan(mixing):
    config = StyleGANConfig(
        generator=StyleGANGeneratorConfig(
            latent_dim=4,
            style_dim=4,
            mapping_layers=1,
            image_size=8,
            max_channels=4,
            min_channels=4,
            style_mixing_prob=mixing,
        ),
    )
    return StyleGAN(config, rngs=nnx.Rngs(0))


@pytest.mark.slow  # trains end to end; run by CI's main session, not the JAX-matrix legs (CI time)
def test_stylegan_trains_with_noise_and_style_mixing(tmp_path):
    model = _stylegan(mixing=0.9)
    before = params_of(model.generator.mapping)
    trainer = Trainer(model, Images(model.sample_shape), training(), workdir=tmp_path)
    trainer.fit()
    assert moved(before, params_of(model.generator.mapping))
    assert trainer.rules.style_mixing_prob == 0.9 and trainer.rules.num_blocks >= 2
    assert np.isfinite(trainer.history[-1]["g_loss"])


def _progressive():
    config = ProgressiveGANConfig(
        generator=ProgressiveGeneratorConfig(latent_dim=4, max_channels=4, num_stages=2),
        stable_steps=2,
        transition_steps=2,
    )
    return ProgressiveGAN(config, rngs=nnx.Rngs(0))


def test_progressive_fade_in_follows_the_config_schedule():
    # The in-program alpha (a formula of the step) against the config's own stage_at.
    model = _progressive()
    rules = model.training_rules()
    for step in range(8):
        stage, alpha = model.config.stage_at(step)
        in_force = rules.phase_at(step)
        assert in_force.stage == stage, step
        assert float(in_force.alpha(jnp.asarray(step))) == pytest.approx(alpha), step


@pytest.mark.slow  # trains end to end; run by CI's main session, not the JAX-matrix legs (CI time)
def test_progressive_gan_grows_through_its_stages_while_training(tmp_path):
    model = _progressive()
    final = tuple(model.config.generator.output_layout.shape)
    trainer = Trainer(model, Images(final), training(steps=8), workdir=tmp_path)
    assert trainer.rules.stage == 0
    before = params_of(model.generator)
    trainer.fit()
    # Steps 0-1 stage 0, 2-3 fade-in of stage 1, then stage 1: the trainer moved on.
    assert isinstance(trainer.rules, ProgressiveRules) and trainer.rules.stage == 1
    assert model.stage == 1 and model.generate(2).shape == (2, *final)
    assert moved(before, params_of(model.generator))
    assert all(np.isfinite(row["d_loss"]) for row in trainer.history)


def test_progressive_stages_must_start_on_dispatch_boundaries(tmp_path):
    model = _progressive()
    final = tuple(model.config.generator.output_layout.shape)
    with pytest.raises(
        ValueError, match=r"change at step 2 \(a ProgressiveGAN stage.*steps_per_dispatch=4"
    ):
        Trainer(model, Images(final), training(steps=8, k=4), workdir=tmp_path)


def _cyclegan():
    return CycleGAN(
        input_shape_x=(8, 8, 1),
        gen_hidden_dims=(4, 8),
        disc_hidden_dims=(4, 8),
        n_residual_blocks=1,
        rngs=nnx.Rngs(params=0, dropout=1),
    )


@pytest.mark.slow  # trains end to end; run by CI's main session, not the JAX-matrix legs (CI time)
def test_cyclegan_losses_match_the_models_own_objective(tmp_path):
    model = _cyclegan()
    data = Images((8, 8, 1), domains=True, seed=5)
    first = next(Images((8, 8, 1), domains=True, seed=5))
    # The model's own loss on the first batch, with the initial networks: the trainer's
    # first discriminator loss and its cycle and identity terms must be the same numbers.
    expected = model.loss_fn({"a": first["image_a"], "b": first["image_b"]}, training=True)
    before = [params_of(network) for network in (model.generator_g, model.discriminator_y)]
    trainer = Trainer(model, data, training(steps=1, k=1), workdir=tmp_path)
    trainer.fit()
    row = trainer.history[0]
    for ours, theirs in (
        ("d_loss", "discriminator_loss"),
        ("cycle_loss", "cycle_loss"),
        ("identity_loss", "identity_loss"),
    ):
        assert row[ours] == pytest.approx(float(expected[theirs]), rel=1e-5), ours
    # write_back reached the model's own networks, through the pairs.
    after = [params_of(network) for network in (model.generator_g, model.discriminator_y)]
    assert all(moved(b, a) for b, a in zip(before, after, strict=True))


def test_cyclegan_sample_grid_rows_are_its_translations(tmp_path):
    # The run's grid (one compiled program): rows of A, G(A), B, F(B), as eager calls give.
    from artifex.generative_models.training.run import _sampler

    class Pairs:
        batch = next(Images((8, 8, 1), batch=3, domains=True, seed=2))

        def __len__(self):
            return 3

        def get_batch(self, indices):
            return {name: images[indices] for name, images in self.batch.items()}

    trainer = Trainer(_cyclegan(), None, training(), workdir=tmp_path)
    images, columns = _sampler(trainer, Pairs(), 3, None, "NHWC")(trainer)
    a, b = Pairs.batch["image_a"], Pairs.batch["image_b"]
    pair = trainer.ema_generator()
    rows = [a, pair.first(a, training=False), b, pair.second(b, training=False)]
    assert columns == 3 and images.shape == (12, 8, 8, 1)
    np.testing.assert_allclose(images, np.concatenate(rows), rtol=1e-5, atol=1e-6)


def test_cyclegan_refuses_single_domain_batches(tmp_path):
    trainer = Trainer(_cyclegan(), Images((8, 8, 1)), training(), workdir=tmp_path)
    with pytest.raises(ValueError, match=r"no 'image_a' entry.*trains on image_a, image_b"):
        trainer.fit()


def _mlp_gan(dtype="float32"):
    config = GANConfig(
        generator=GeneratorConfig(hidden_dims=(16,), output_shape=(8,), latent_dim=4),
        discriminator=DiscriminatorConfig(hidden_dims=(16,), batch_norm=True),
    )
    # Precision is chosen when the networks are built.
    return GAN(config.with_compute_dtype(dtype), rngs=nnx.Rngs(0))


def test_bf16_computes_in_bf16_and_keeps_float32_parameters(tmp_path):
    runs = {}
    for dtype in ("float32", "bfloat16"):
        trainer = Trainer(
            _mlp_gan(dtype),
            Images((8,), batch=8),
            training(steps=4, precision=PrecisionConfig(compute_dtype=dtype)),
            workdir=tmp_path / dtype,
        )
        batches = trainer._next_batches(2)
        program = trainer._step.lower(trainer.state, batches).as_text()
        trainer.fit()
        runs[dtype] = (trainer, program)
    bf16, program = runs["bfloat16"]
    # Every matrix product of the bf16 program yields bf16 (BatchNorm included, whose
    # statistics are float32); the fp32 program has no bf16 at all.
    products = re.findall(r"stablehlo.dot_general.*->\s*tensor<[^>]*x(\w+)>", program)
    assert products and set(products) == {"bf16"}
    assert "bf16" not in runs["float32"][1]
    # Parameters, optimizer moments, batch statistics and EMA stay float32.
    floats = [x for x in jax.tree.leaves(bf16.state.nets) if jnp.issubdtype(x.dtype, jnp.floating)]
    assert floats and all(x.dtype == jnp.float32 for x in floats)
    # Same seed and data: bf16 rounding makes the runs close but not identical.
    fp32_loss, bf16_loss = (runs[d][0].history[-1]["d_loss"] for d in ("float32", "bfloat16"))
    assert bf16_loss == pytest.approx(fp32_loss, rel=0.1)
    fp32_params = jax.tree.leaves(nnx.state(runs["float32"][0]._modules()[0], nnx.Param))
    bf16_params = jax.tree.leaves(nnx.state(bf16._modules()[0], nnx.Param))
    differences = [
        float(jnp.abs(a - b).max()) for a, b in zip(fp32_params, bf16_params, strict=True)
    ]
    assert 0 < max(differences) < 0.05


def _tiny_conv(config_class, **options):
    from artifex.generative_models.core.configuration import (
        ConvDiscriminatorConfig,
        ConvGeneratorConfig,
    )

    shape = {"output_shape": (8, 8, 1), "data_format": "NHWC"}
    return config_class(
        generator=ConvGeneratorConfig(hidden_dims=(8,), latent_dim=4, **shape),
        discriminator=ConvDiscriminatorConfig(
            hidden_dims=(8,), input_shape=(8, 8, 1), data_format="NHWC", batch_norm=False
        ),
        **options,
    )


def test_original_wgan_clips_the_critic_after_every_update(tmp_path):
    from artifex.generative_models.core.configuration import WGANConfig
    from artifex.generative_models.models.gan import WGAN

    config = _tiny_conv(
        WGANConfig, use_gradient_penalty=False, clip_value=0.005, critic_iterations=2
    )
    model = WGAN(config, rngs=nnx.Rngs(0))
    # He-initialised weights start well outside +-0.005.
    assert (
        max(float(np.abs(p).max()) for p in jax.tree.leaves(params_of(model.discriminator))) > 0.1
    )
    Trainer(model, Images((8, 8, 1)), training(), workdir=tmp_path).fit()
    bound = max(float(np.abs(p).max()) for p in jax.tree.leaves(params_of(model.discriminator)))
    assert bound == pytest.approx(0.005)


def test_lsgan_sum_reduction_reaches_the_trainer_objective():
    from artifex.generative_models.core.configuration import (
        ExperimentConfig,
        LSGANConfig,
    )
    from artifex.generative_models.models.gan import LSGAN
    from artifex.generative_models.training.trainer import rules_of

    experiment = ExperimentConfig(
        model=_tiny_conv(LSGANConfig, reduction="sum", a=-1.0, b=1.0, c=0.0),
        training=TrainingConfig(),
    )
    objective = rules_of(LSGAN(experiment.model, rngs=nnx.Rngs(0)), experiment).objective
    real, fake = jnp.array([[0.5], [1.5]]), jnp.array([[0.0], [-2.0]])
    # Sum over the batch: 0.5 * sum((real - b)^2) + 0.5 * sum((fake - a)^2), by hand.
    expected = 0.5 * ((0.5 - 1) ** 2 + (1.5 - 1) ** 2) + 0.5 * ((0 + 1) ** 2 + (-2 + 1) ** 2)
    assert float(objective.discriminator_loss(real, fake)) == pytest.approx(expected)
    assert float(objective.generator_loss(fake)) == pytest.approx(0.5 * (0 + 4))


def test_a_penalty_on_a_batch_norm_critic_is_warned_about(tmp_path):
    model = _mlp_gan()  # its discriminator has BatchNorm
    with pytest.warns(UserWarning, match="R1 differentiate the critic.*has BatchNorm"):
        Trainer(model, Images((8,)), training(r1_weight=1.0), workdir=tmp_path)
