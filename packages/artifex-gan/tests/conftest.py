"""Shared tiny configs and helpers of the artifex-gan tests.

Speed: on CPU, XLA compiles JAX's default ``threefry`` PRNG slowly (about a second per
distinct parameter shape on a shared 2-core machine), which made building a model cost
more than running it. The tests of this package run with the ``rbg`` PRNG (a documented
JAX implementation; the code under test does not depend on it) and restore the previous
one after each test; tests marked ``default_prng`` check the models under JAX's default.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jax
import numpy as np
import optax
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    ConditionalDiscriminatorConfig,
    ConditionalGANConfig,
    ConditionalGeneratorConfig,
    ConditionalParams,
    ConvDiscriminatorConfig,
    ConvGeneratorConfig,
    CycleGANConfig,
    CycleGANGeneratorConfig,
    DCGANConfig,
    DiscriminatorConfig,
    GANConfig,
    GeneratorConfig,
    LSGANConfig,
    PatchGANDiscriminatorConfig,
    ProgressiveGANConfig,
    ProgressiveGeneratorConfig,
    StyleGANConfig,
    StyleGANGeneratorConfig,
    WGANConfig,
)

FAST_PRNG = "rbg"


@contextlib.contextmanager
def fast_prng_scope() -> Iterator[None]:
    """Use the ``rbg`` PRNG inside the block, then the previous one again.

    Keys carry their implementation, so models built inside keep working outside.
    """
    previous = jax.config.jax_default_prng_impl
    jax.config.update("jax_default_prng_impl", FAST_PRNG)
    try:
        yield
    finally:
        jax.config.update("jax_default_prng_impl", previous)


@pytest.fixture(autouse=True)
def fast_prng(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test runs with the ``rbg`` PRNG (see the module docstring)."""
    if request.node.get_closest_marker("default_prng"):
        yield
        return
    with fast_prng_scope():
        yield


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Send each test file to one worker when only this directory is under test.

    The modules build their models in module-scoped fixtures and share compiled programs
    between their tests; spreading a module over workers builds and compiles everything
    twice. Other runs (several directories) keep xdist's default scheduling.
    """
    here = Path(__file__).resolve().parent
    args = [Path(str(arg).split("::")[0]).resolve() for arg in config.args]
    if not args or not all(arg == here or here in arg.parents for arg in args):
        return None
    from xdist.scheduler import LoadFileScheduling

    return LoadFileScheduling(config, log)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "default_prng: run the test with JAX's default PRNG, not rbg"
    )


# -- tiny configs ---------------------------------------------------------------------


def mlp_config(
    *,
    shape: tuple[int, ...] = (28, 28, 1),
    latent_dim: int = 8,
    loss_type: str = "vanilla",
    disc_batch_norm: bool = False,
    dropout_rate: float = 0.0,
    **gan: Any,
) -> GANConfig:
    """A GAN of MLPs with hidden widths (8, 4)."""
    return GANConfig(
        generator=GeneratorConfig(hidden_dims=(8, 4), output_shape=shape, latent_dim=latent_dim),
        discriminator=DiscriminatorConfig(
            hidden_dims=(8, 4), batch_norm=disc_batch_norm, dropout_rate=dropout_rate
        ),
        loss_type=loss_type,
        **gan,
    )


def conv_networks(
    shape: tuple[int, ...],
    *,
    latent_dim: int = 8,
    disc_batch_norm: bool = False,
    instance_norm: bool = False,
    spectral_norm: bool = False,
) -> tuple[ConvGeneratorConfig, ConvDiscriminatorConfig]:
    """Convolutional networks with channels (8, 4) / (4, 8)."""
    return (
        ConvGeneratorConfig(hidden_dims=(8, 4), output_shape=shape, latent_dim=latent_dim),
        ConvDiscriminatorConfig(
            hidden_dims=(4, 8),
            input_shape=shape,
            batch_norm=disc_batch_norm,
            use_instance_norm=instance_norm,
            use_spectral_norm=spectral_norm,
        ),
    )


def dcgan_config(shape: tuple[int, ...] = (28, 28, 1), **options: Any) -> DCGANConfig:
    generator, discriminator = conv_networks(
        shape, disc_batch_norm=options.pop("disc_batch_norm", True)
    )
    return DCGANConfig(generator=generator, discriminator=discriminator, **options)


def wgan_config(shape: tuple[int, ...] = (1, 28, 28), **options: Any) -> WGANConfig:
    generator, discriminator = conv_networks(shape, instance_norm=True)
    return WGANConfig(generator=generator, discriminator=discriminator, **options)


def lsgan_config(shape: tuple[int, ...] = (28, 28, 1), **options: Any) -> LSGANConfig:
    generator, discriminator = conv_networks(shape, disc_batch_norm=True)
    return LSGANConfig(generator=generator, discriminator=discriminator, **options)


def conditional_config(
    shape: tuple[int, ...] = (1, 28, 28), num_classes: int = 3, **options: Any
) -> ConditionalGANConfig:
    params = ConditionalParams(num_classes=num_classes, embedding_dim=4)
    return ConditionalGANConfig(
        generator=ConditionalGeneratorConfig(
            hidden_dims=(8, 4), output_shape=shape, latent_dim=8, conditional=params
        ),
        discriminator=ConditionalDiscriminatorConfig(
            hidden_dims=(4, 8), input_shape=shape, batch_norm=True, conditional=params
        ),
        **options,
    )


def cyclegan_config(
    shape: tuple[int, ...] = (8, 8, 3), *, return_features: bool = True, **options: Any
) -> CycleGANConfig:
    def generator() -> CycleGANGeneratorConfig:
        return CycleGANGeneratorConfig(
            hidden_dims=(4, 8), input_shape=shape, output_shape=shape, n_residual_blocks=1
        )

    def discriminator() -> PatchGANDiscriminatorConfig:
        return PatchGANDiscriminatorConfig(
            hidden_dims=(4, 8), input_shape=shape, return_features=return_features
        )

    return CycleGANConfig(
        generator={"a_to_b": generator(), "b_to_a": generator()},
        discriminator={"disc_a": discriminator(), "disc_b": discriminator()},
        **options,
    )


def stylegan_config(**options: Any) -> StyleGANConfig:
    return StyleGANConfig(
        generator=StyleGANGeneratorConfig(
            latent_dim=8,
            style_dim=8,
            mapping_layers=2,
            image_size=8,
            max_channels=8,
            min_channels=4,
        ),
        **options,
    )


def progressive_config(**options: Any) -> ProgressiveGANConfig:
    return ProgressiveGANConfig(
        generator=ProgressiveGeneratorConfig(latent_dim=8, max_channels=8, num_stages=2),
        stable_steps=2,
        transition_steps=2,
        **options,
    )


# -- helpers --------------------------------------------------------------------------


def images(shape: tuple[int, ...], batch: int = 4, seed: int = 0) -> jax.Array:
    """A batch of images in [-1, 1] (NumPy-made, independent of the PRNG under test)."""
    rng = np.random.default_rng(seed)
    return jax.numpy.asarray(rng.uniform(-1, 1, size=(batch, *shape)), dtype=jax.numpy.float32)


def to_numpy(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """``log σ(x)``, computed stably in NumPy."""
    return -np.logaddexp(0.0, -x)


def params_of(module: nnx.Module) -> list[np.ndarray]:
    """The parameters of ``module`` as NumPy arrays (a snapshot)."""
    return [np.array(leaf) for leaf in jax.tree.leaves(nnx.state(module, nnx.Param))]


def _only(prefix: str) -> Any:
    """A filter of the ``nnx.Param`` s under the attributes whose name starts with ``prefix``."""

    def select(path: tuple[Any, ...], value: Any) -> bool:
        return isinstance(value, nnx.Param) and str(path[0]).startswith(prefix)

    return select


def optimizer_step(
    model: Any,
    batch: Any,
    *,
    generator: str = "generator",
    discriminator: str = "discriminator",
    **loss_options: Any,
) -> dict[str, Any]:
    """One discriminator and one generator Adam step of ``model.loss_fn``, compiled.

    Gradients come from ``nnx.value_and_grad`` over the model with only the updated
    network's parameters differentiable; the optimizers are
    ``nnx.Optimizer(network, optax.adam(1e-3), wrt=nnx.Param)`` updated with
    ``optimizer.update(network, grads)``.

    Returns:
        The losses and snapshots of each network's parameters before and after.
    """
    generator_net = getattr(model, generator)
    discriminator_net = getattr(model, discriminator)
    gen_opt = nnx.Optimizer(generator_net, optax.adam(1e-3), wrt=nnx.Param)
    disc_opt = nnx.Optimizer(discriminator_net, optax.adam(1e-3), wrt=nnx.Param)
    before = (params_of(generator_net), params_of(discriminator_net))

    @nnx.jit
    def step(model: Any, gen_opt: Any, disc_opt: Any, batch: Any) -> tuple[Any, Any]:
        def disc_loss(model: Any) -> Any:
            return model.loss_fn(batch, None, training=True, **loss_options)["discriminator_loss"]

        def gen_loss(model: Any) -> Any:
            return model.loss_fn(batch, None, training=True, **loss_options)["generator_loss"]

        d_loss, d_grads = nnx.value_and_grad(
            disc_loss, argnums=nnx.DiffState(0, _only(discriminator))
        )(model)
        disc_opt.update(getattr(model, discriminator), d_grads[discriminator])
        g_loss, g_grads = nnx.value_and_grad(gen_loss, argnums=nnx.DiffState(0, _only(generator)))(
            model
        )
        gen_opt.update(getattr(model, generator), g_grads[generator])
        return d_loss, g_loss

    d_loss, g_loss = step(model, gen_opt, disc_opt, batch)
    return {
        "discriminator_loss": float(d_loss),
        "generator_loss": float(g_loss),
        "before": before,
        "after": (params_of(generator_net), params_of(discriminator_net)),
    }


def assert_trained(result: dict[str, Any]) -> None:
    """Both losses finite; both networks changed; every parameter finite."""
    assert np.isfinite(result["discriminator_loss"]) and np.isfinite(result["generator_loss"])
    for name, before, after in zip(
        ("generator", "discriminator"), result["before"], result["after"], strict=True
    ):
        assert len(before) == len(after) > 0
        assert all(np.all(np.isfinite(a)) for a in after), f"{name}: non-finite parameters"
        changed = sum(not np.array_equal(b, a) for b, a in zip(before, after, strict=True))
        assert changed > 0, f"{name}: no parameter changed"


def abstract(build: Any) -> Any:
    """``build()`` traced, not run: a model whose arrays are shapes (nothing compiles)."""
    return nnx.eval_shape(build)


def shape_of(fn: Any, *args: Any) -> Any:
    """The output shape(s) of ``fn(*args)``, traced without compiling."""
    out = nnx.eval_shape(fn, *args)
    return jax.tree.map(lambda x: tuple(x.shape), out)


class Tiny:
    """The builders and helpers above, for the test modules (``tiny`` fixture)."""

    mlp_config = staticmethod(mlp_config)
    conv_networks = staticmethod(conv_networks)
    dcgan_config = staticmethod(dcgan_config)
    wgan_config = staticmethod(wgan_config)
    lsgan_config = staticmethod(lsgan_config)
    conditional_config = staticmethod(conditional_config)
    cyclegan_config = staticmethod(cyclegan_config)
    stylegan_config = staticmethod(stylegan_config)
    progressive_config = staticmethod(progressive_config)
    images = staticmethod(images)
    fast_prng_scope = staticmethod(fast_prng_scope)
    to_numpy = staticmethod(to_numpy)
    log_sigmoid = staticmethod(log_sigmoid)
    params_of = staticmethod(params_of)
    abstract = staticmethod(abstract)
    shape_of = staticmethod(shape_of)
    optimizer_step = staticmethod(optimizer_step)
    assert_trained = staticmethod(assert_trained)


@pytest.fixture(scope="session")
def tiny() -> type[Tiny]:
    """Tiny configs and NumPy helpers shared by the test modules."""
    return Tiny
