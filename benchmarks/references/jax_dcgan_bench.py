"""(Copied unchanged from the team's shared anchors, shared/anchors/jax_dcgan_bench.py.)

Reference DCGAN (64x64) training-step throughput in JAX + Flax NNX.

Same architecture and step as torch_dcgan_bench.py, NHWC. Two drivers:
  nnx   : @nnx.jit over (G, D, optG, optD)
  split : nnx.split once, a pure jax.jit step over the state with donation
Usage: python jax_dcgan_bench.py --batch 128 --steps 50 [--bf16] [--driver split]
"""
import argparse, json, time
import jax, jax.numpy as jnp
import optax
from flax import nnx


class G(nnx.Module):
    def __init__(self, rngs, nz=100, ngf=64, nc=3, dtype=jnp.float32):
        ch = [ngf * 8, ngf * 4, ngf * 2, ngf]
        kw = dict(use_bias=False, dtype=dtype, rngs=rngs)
        self.first = nnx.ConvTranspose(nz, ch[0], (4, 4), (1, 1), padding="VALID", **kw)
        self.ups = nnx.List([nnx.ConvTranspose(ch[i], ch[i + 1], (4, 4), (2, 2), padding="SAME", **kw) for i in range(3)])
        self.bns = nnx.List([nnx.BatchNorm(c, dtype=dtype, rngs=rngs) for c in ch])
        self.out = nnx.ConvTranspose(ngf, nc, (4, 4), (2, 2), padding="SAME", **kw)

    def __call__(self, z):
        x = z.reshape(z.shape[0], 1, 1, -1)
        x = jax.nn.relu(self.bns[0](self.first(x)))
        for up, bn in zip(self.ups, list(self.bns)[1:]):
            x = jax.nn.relu(bn(up(x)))
        return jnp.tanh(self.out(x)).astype(jnp.float32)


class D(nnx.Module):
    def __init__(self, rngs, ndf=64, nc=3, dtype=jnp.float32):
        ch = [nc, ndf, ndf * 2, ndf * 4, ndf * 8]
        kw = dict(use_bias=False, dtype=dtype, rngs=rngs)
        self.convs = nnx.List([nnx.Conv(ch[i], ch[i + 1], (4, 4), (2, 2), padding=((1, 1), (1, 1)), **kw) for i in range(4)])
        self.bns = nnx.List([nnx.BatchNorm(c, dtype=dtype, rngs=rngs) for c in ch[2:]])
        self.out = nnx.Conv(ndf * 8, 1, (4, 4), (1, 1), padding="VALID", **kw)

    def __call__(self, x):
        x = jax.nn.leaky_relu(self.convs[0](x), 0.2)
        for conv, bn in zip(list(self.convs)[1:], self.bns):
            x = jax.nn.leaky_relu(bn(conv(x)), 0.2)
        return self.out(x).reshape(x.shape[0], -1).astype(jnp.float32)


def bce(logits, target):
    return optax.sigmoid_binary_cross_entropy(logits, jnp.full_like(logits, target)).mean()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--driver", default="split", choices=["nnx", "split"])
    a = p.parse_args()
    dtype = jnp.bfloat16 if a.bf16 else jnp.float32
    rngs = nnx.Rngs(0)
    g, d = G(rngs, dtype=dtype), D(rngs, dtype=dtype)
    tx = optax.adam(2e-4, b1=0.5, b2=0.999)
    og = nnx.Optimizer(g, tx, wrt=nnx.Param)
    od = nnx.Optimizer(d, tx, wrt=nnx.Param)
    real = jax.random.uniform(jax.random.key(1), (a.batch, 64, 64, 3), minval=-1, maxval=1)

    def step_impl(g, d, og, od, real, key):
        z = jax.random.normal(key, (real.shape[0], 100))
        fake = g(z)

        def d_loss(d):
            return bce(d(real), 1.0) + bce(d(jax.lax.stop_gradient(fake)), 0.0)
        lD, gd = nnx.value_and_grad(d_loss)(d)
        od.update(d, gd)

        def g_loss(g, d):
            return bce(d(g(z)), 1.0)
        lG, gg = nnx.value_and_grad(g_loss)(g, d)
        og.update(g, gg)
        return lD, lG

    if a.driver == "nnx":
        jstep = nnx.jit(step_impl)
        run = lambda key: jstep(g, d, og, od, real, key)
    else:
        graphdef, state = nnx.split((g, d, og, od))

        @jax.jit
        def pure(state, real, key):
            g_, d_, og_, od_ = nnx.merge(graphdef, state)
            out = step_impl(g_, d_, og_, od_, real, key)
            return nnx.state((g_, d_, og_, od_)), out
        pure = jax.jit(pure.__wrapped__ if hasattr(pure, "__wrapped__") else pure, donate_argnums=0)
        box = {"s": state}

        def run(key):
            box["s"], out = pure(box["s"], real, key)
            return out

    keys = jax.random.split(jax.random.key(2), a.steps + 5)
    t0 = time.perf_counter()
    for i in range(5):
        out = run(keys[i])
    jax.block_until_ready(out); warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(a.steps):
        out = run(keys[5 + i])
    jax.block_until_ready(out); dt = time.perf_counter() - t0
    print(json.dumps({"impl": "jax-" + a.driver, "batch": a.batch, "bf16": a.bf16,
                      "device": str(jax.devices()[0]), "jax": jax.__version__,
                      "step_ms": 1000 * dt / a.steps, "img_per_s": a.batch * a.steps / dt,
                      "warmup_s": warm, "lossD": float(out[0]), "lossG": float(out[1])}))


if __name__ == "__main__":
    main()
