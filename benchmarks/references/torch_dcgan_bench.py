"""(Copied unchanged from the team's shared anchors, shared/anchors/torch_dcgan_bench.py.)

Reference DCGAN (Radford et al. 2015, 64x64) training-step throughput in PyTorch.

Anchor measurement for the compass: the architecture of the classic PyTorch DCGAN
example (nz=100, ngf=ndf=64, BatchNorm, Adam 2e-4/0.5), one D step + one G step
per iteration on random "real" data, timed after warm-up.
Usage: python torch_dcgan_bench.py --batch 128 --steps 50 [--amp] [--compile] [--channels-last]
"""
import argparse, json, time
import torch
import torch.nn as nn

def gen(nz=100, ngf=64, nc=3):
    return nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())

def disc(ndf=64, nc=3):
    return nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, True),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, True),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Flatten())

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--amp", action="store_true")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = p.parse_args()
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    dev = torch.device(a.device)
    G, D = gen().to(dev), disc().to(dev)
    mf = torch.channels_last if a.channels_last else torch.contiguous_format
    G, D = G.to(memory_format=mf), D.to(memory_format=mf)
    oG = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    oD = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    real = (torch.rand(a.batch, 3, 64, 64, device=dev) * 2 - 1).to(memory_format=mf)
    ones = torch.ones(a.batch, 1, device=dev); zeros = torch.zeros(a.batch, 1, device=dev)
    amp_dtype = torch.bfloat16

    def step():
        z = torch.randn(a.batch, 100, 1, 1, device=dev)
        with torch.autocast(dev.type, dtype=amp_dtype, enabled=a.amp):
            fake = G(z)
            lossD = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        oD.zero_grad(set_to_none=True); lossD.backward(); oD.step()
        with torch.autocast(dev.type, dtype=amp_dtype, enabled=a.amp):
            lossG = bce(D(fake), ones)
        oG.zero_grad(set_to_none=True); lossG.backward(); oG.step()
        return lossD, lossG

    if a.compile:
        step = torch.compile(step)
    sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)
    t0 = time.perf_counter()
    for _ in range(5):
        step()
    sync(); warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(a.steps):
        lD, lG = step()
    sync(); dt = time.perf_counter() - t0
    print(json.dumps({"impl": "torch", "batch": a.batch, "amp": a.amp, "compile": a.compile,
                      "channels_last": a.channels_last, "device": str(dev),
                      "step_ms": 1000 * dt / a.steps, "img_per_s": a.batch * a.steps / dt,
                      "warmup_s": warm, "lossD": float(lD), "lossG": float(lG)}))

if __name__ == "__main__":
    main()
