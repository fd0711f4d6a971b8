#!/usr/bin/python3
"""PyTorch side of `senet-lab bench` (issue #5): the same networks as src/models, timed the same way.

Usage: /usr/bin/python3 scripts/bench/torch_bench.py --serve THREADS   (what `senet-lab bench` runs)
       /usr/bin/python3 scripts/bench/torch_bench.py JOB_JSON            (one-shot, all workloads in turn)

--serve keeps the process alive and answers one JSON command per stdin line (src/bench/protocol.ts
ServeCommand: info, prepare, round, release, peak, convPeak, exit) with one line RESULT_PREFIX + JSON on
stdout, so the driver can alternate this process and the tfjs ones round by round. It serves both
PyTorch peers: fp32 and torch.autocast("cpu", dtype=torch.bfloat16) ("precision": "bf16").

JOB_JSON (written by scripts/bench-onednn.ts) holds {"threads": 2, "deadline": epoch seconds or null,
"workloads": [...]}; each workload is
{"id", "kind": "train"|"infer", "config": {...}, "batch", "warmup", "steps", "budgetSeconds",
"minSteps", "lr", "momentum"} with config keys as in src/models/config.ts: arch ("resnet-cifar" or
"resnet"), depth, width, attention ("none"|"se"|"sge"), reduction, groups, numClasses, inputShape
[H, W, C] and, for "resnet", strideIn ("1x1"|"3x3").

Prints one JSON object on stdout: {"ok", "versions", "threads", "results": [{"id", "timesMs",
"peakRssMiB", "error"?, "skipped"?}]}. Nothing else goes to stdout.

The networks are written here, not taken from torchvision, so they match ours layer for layer:
CIFAR ResNets with option-A shortcuts (subsample, append zero channels), SE (no FC bias, hidden
max(1, C // r)) and SGE (G = min(groups, C)) on the residual branch before the addition; the
ImageNet ResNet-50 with the stride in the first 1x1 conv (strideIn "1x1", Caffe) and projection
shortcuts. Memory format channels_last, as our NHWC tensors.
"""

import json
import platform
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class SqueezeExcite(nn.Module):
    def __init__(self, c, reduction):
        super().__init__()
        hidden = max(1, c // reduction)
        self.fc1 = nn.Linear(c, hidden, bias=False)
        self.fc2 = nn.Linear(hidden, c, bias=False)

    def forward(self, x):
        s = x.mean((2, 3))
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(s))))
        return x * s[:, :, None, None]


class SpatialGroupEnhance(nn.Module):
    """SGE as in src/layers/spatial-group-enhance.ts (gamma 0, beta 1, unbiased std + eps)."""

    def __init__(self, groups, eps=1e-5):
        super().__init__()
        self.groups = groups
        self.eps = eps
        self.gamma = nn.Parameter(torch.zeros(1, groups, 1, 1))
        self.beta = nn.Parameter(torch.ones(1, groups, 1, 1))

    def forward(self, x):
        n, c, h, w = x.shape
        xg = x.reshape(n * self.groups, c // self.groups, h, w)
        sim = (xg * xg.mean((2, 3), keepdim=True)).sum(1, keepdim=True)
        t = sim - sim.mean((2, 3), keepdim=True)
        std = t.reshape(n * self.groups, -1).std(1, unbiased=True).reshape(-1, 1, 1, 1) + self.eps
        t = (t / std).reshape(n, self.groups, h, w)
        gate = torch.sigmoid(t * self.gamma + self.beta)
        return (xg.reshape(n, self.groups, c // self.groups, h, w) * gate[:, :, None]).reshape(n, c, h, w)


def attention(cfg, c):
    kind = cfg.get("attention", "none")
    if kind == "se":
        return SqueezeExcite(c, cfg["reduction"])
    if kind == "sge":
        return SpatialGroupEnhance(min(cfg["groups"], c))
    return nn.Identity()


def conv_bn(cin, cout, k, stride):
    return [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)]


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, cfg):
        super().__init__()
        self.branch = nn.Sequential(*conv_bn(cin, cout, 3, stride), nn.ReLU(inplace=True), *conv_bn(cout, cout, 3, 1))
        self.att = attention(cfg, cout)
        self.stride = stride
        self.extra = cout - cin

    def forward(self, x):
        idt = x
        if self.stride > 1:
            idt = idt[:, :, :: self.stride, :: self.stride]
        if self.extra > 0:
            idt = F.pad(idt, (0, 0, 0, 0, 0, self.extra))
        return F.relu(idt + self.att(self.branch(x)))


class ResNetCifar(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        n = (cfg["depth"] - 2) // 6
        w = cfg["width"]
        cin = cfg["inputShape"][2]
        layers = [*conv_bn(cin, w, 3, 1), nn.ReLU(inplace=True)]
        c = w
        for k in range(3):
            for b in range(n):
                stride = 2 if (b == 0 and k > 0) else 1
                layers.append(BasicBlock(c, w * 2**k, stride, cfg))
                c = w * 2**k
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c, cfg["numClasses"])

    def forward(self, x):
        return self.fc(self.features(x).mean((2, 3)))


class Bottleneck(nn.Module):
    def __init__(self, cin, inner, cout, stride, cfg):
        super().__init__()
        s1, s3 = (stride, 1) if cfg.get("strideIn", "1x1") == "1x1" else (1, stride)
        self.branch = nn.Sequential(
            *conv_bn(cin, inner, 1, s1), nn.ReLU(inplace=True),
            *conv_bn(inner, inner, 3, s3), nn.ReLU(inplace=True),
            *conv_bn(inner, cout, 1, 1),
        )
        self.att = attention(cfg, cout)
        self.proj = nn.Sequential(*conv_bn(cin, cout, 1, stride)) if (stride > 1 or cin != cout) else nn.Identity()

    def forward(self, x):
        return F.relu(self.proj(x) + self.att(self.branch(x)))


RESNET_UNITS = {50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]}


class ResNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        w = cfg["width"]
        cin = cfg["inputShape"][2]
        layers = [*conv_bn(cin, w, 7, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
        c = w
        for k, units in enumerate(RESNET_UNITS[cfg["depth"]]):
            inner = w * 2**k
            for b in range(units):
                stride = 2 if (b == 0 and k > 0) else 1
                layers.append(Bottleneck(c, inner, 4 * inner, stride, cfg))
                c = 4 * inner
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c, cfg["numClasses"])

    def forward(self, x):
        return self.fc(self.features(x).mean((2, 3)))


ARCHS = {"resnet-cifar": ResNetCifar, "resnet": ResNet}

# Marks reply lines in serve mode (src/bench/protocol.ts RESULT_PREFIX).
RESULT_PREFIX = "@@senet-lab-bench@@"


def reset_peak_rss():
    """Resets VmHWM (Linux >= 4.0), so the next read is this workload's peak; False if unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return None


def measure(fn, wl):
    """Runs warm-up calls, then timed calls until `steps` or the time budget (after minSteps)."""
    for _ in range(wl["warmup"]):
        fn()
    times = []
    start = time.perf_counter()
    budget = wl.get("budgetSeconds")
    while len(times) < wl["steps"]:
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
        if budget is not None and len(times) >= wl["minSteps"] and time.perf_counter() - start > budget:
            break
    return times


def build(wl, precision="fp32"):
    """Builds a workload's network and returns its step function (one training step or one
    inference, returning a Python float so the work is finished). precision "bf16" runs the
    forward pass (and so the backward's matching ops) under torch.autocast("cpu", bfloat16);
    weights and the SGD update stay fp32, as autocast training does."""
    cfg = wl["config"]
    torch.manual_seed(0)
    h, w, c = cfg["inputShape"]
    model = ARCHS[cfg["arch"]](cfg).to(memory_format=torch.channels_last)
    x = torch.randn(wl["batch"], c, h, w).to(memory_format=torch.channels_last)
    bf16 = precision == "bf16"

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)

    if bf16:
        # The peer must really compute in bf16: fail the workload (reported) if autocast did not
        # reach the convolutions and the classifier.
        model.eval()
        with torch.no_grad(), autocast():
            dt = model(x[:2]).dtype
        if dt != torch.bfloat16:
            raise RuntimeError(f"torch.autocast bf16 did not take effect: the logits are {dt}")

    if wl["kind"] == "train":
        model.train()
        y = torch.randint(0, cfg["numClasses"], (wl["batch"],))
        opt = torch.optim.SGD(model.parameters(), lr=wl["lr"], momentum=wl["momentum"])

        def step():
            opt.zero_grad(set_to_none=True)
            with autocast():
                loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss.item()

        return step
    model.eval()

    def infer():
        with torch.no_grad(), autocast():
            return model(x).float().sum().item()

    return infer


def run_workload(wl):
    return measure(build(wl), wl)


def round_plan(wl):
    """The per-round plan of a serve-mode workload (src/bench/plan.ts Workload.plan)."""
    p = wl["plan"]
    return {"warmup": p["warmup"], "steps": p["steps"], "minSteps": p["minSteps"], "budgetSeconds": p["budgetSeconds"]}


def has_bf16_cpu():
    """Whether the CPU has native bf16 dot products (avx512_bf16 or AMX); without them PyTorch's
    bf16 runs emulated and its 'peak' would not be one."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def matmul_peak(size, dtype, seconds):
    """Best FLOP/s of an n x n x n matmul (2 n^3 FLOP) in `dtype` over `seconds`, first call
    excluded (warm-up)."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    best = 0.0
    calls = 0
    until = time.perf_counter() + seconds
    while calls < 2 or time.perf_counter() < until:
        t0 = time.perf_counter()
        c = torch.matmul(a, b)
        float(c[0, 0])
        dt = time.perf_counter() - t0
        if calls > 0:
            best = max(best, 2.0 * size**3 / dt)
        calls += 1
    return best


def conv_peak(shape, dtype, seconds):
    """Best FLOP/s of one convolution forward (src/bench/protocol.ts ConvPeakShape: k x k,
    stride 1, "same" padding, channels_last) over `seconds`, first call excluded; bf16 runs under
    torch.autocast, as the bf16 peer's convolutions do."""
    n, size, cin, cout, k = shape["batch"], shape["size"], shape["inChannels"], shape["outChannels"], shape["kernel"]
    x = torch.randn(n, cin, size, size).to(memory_format=torch.channels_last)
    w = (0.1 * torch.randn(cout, cin, k, k)).to(memory_format=torch.channels_last)
    flop = 2.0 * n * size * size * cout * cin * k * k
    best = 0.0
    calls = 0
    until = time.perf_counter() + seconds
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        while calls < 2 or time.perf_counter() < until:
            t0 = time.perf_counter()
            y = F.conv2d(x, w, padding=k // 2)
            float(y[0, 0, 0, 0])
            dt = time.perf_counter() - t0
            if calls > 0:
                best = max(best, flop / dt)
            calls += 1
    return best


def serve():
    """Serve mode (src/bench/protocol.ts ServeCommand): one JSON command per stdin line, one
    RESULT_PREFIX + JSON reply per command on stdout. Both PyTorch peers (fp32 and autocast bf16)
    live in this one process, keyed by (workload id, precision)."""
    prepared = {}

    def reply(obj):
        sys.stdout.write(RESULT_PREFIX + json.dumps(obj) + "\n")
        sys.stdout.flush()

    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        try:
            kind = cmd["cmd"]
            prec = cmd.get("precision", "fp32")
            if kind == "info":
                reply({
                    "ok": True, "available": True,
                    "detail": f"PyTorch {torch.__version__} (python {platform.python_version()}), channels_last",
                    "threads": torch.get_num_threads(),
                    "versions": {"torch": torch.__version__, "python": platform.python_version()},
                })
            elif kind == "prepare":
                reset_peak_rss()
                errors = {}
                for wl in cmd["workloads"]:
                    sys.stderr.write(f"[torch {prec}] {wl['id']} batch {wl['batch']}: build and {wl['prepareWarmup']} warm-up steps\n")
                    try:
                        fn = build(wl, prec)
                        for _ in range(wl["prepareWarmup"]):
                            fn()
                        prepared[(wl["id"], prec)] = (fn, round_plan(wl))
                    except Exception as e:  # reported per workload; the others still run
                        errors[wl["id"]] = f"{type(e).__name__}: {e}"
                reply({"ok": True, "errors": errors})
            elif kind == "round":
                key = (cmd["id"], prec)
                if key not in prepared:
                    reply({"ok": False, "error": f"workload {cmd['id']} ({prec}) is not prepared"})
                else:
                    fn, plan = prepared[key]
                    reply({"ok": True, "timesMs": measure(fn, plan)})
            elif kind == "release":
                for i in cmd["ids"]:
                    prepared.pop((i, prec), None)
                reply({"ok": True, "peakRssMiB": peak_rss_mib()})
            elif kind == "peak":
                if cmd["dtype"] == "bf16" and not has_bf16_cpu():
                    reply({"ok": True, "flopPerSecond": None, "reason": "the CPU has no avx512_bf16/AMX: bf16 would be emulated"})
                else:
                    dt = torch.bfloat16 if cmd["dtype"] == "bf16" else torch.float32
                    reply({"ok": True, "flopPerSecond": matmul_peak(int(cmd["size"]), dt, float(cmd["seconds"]))})
            elif kind == "convPeak":
                if cmd["dtype"] == "bf16" and not has_bf16_cpu():
                    reply({"ok": True, "flopPerSecond": None, "reason": "the CPU has no avx512_bf16/AMX: bf16 would be emulated"})
                else:
                    dt = torch.bfloat16 if cmd["dtype"] == "bf16" else torch.float32
                    reply({"ok": True, "flopPerSecond": conv_peak(cmd["shape"], dt, float(cmd["seconds"]))})
            elif kind == "exit":
                reply({"ok": True, "peakRssMiB": peak_rss_mib()})
                return 0
            else:
                reply({"ok": False, "error": f"unknown command {kind!r}"})
        except Exception as e:
            reply({"ok": False, "error": f"{type(e).__name__}: {e}"})
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        torch.set_num_threads(int(sys.argv[2]))
        return serve()
    if len(sys.argv) != 2:
        sys.stderr.write("usage: torch_bench.py JOB_JSON\n")
        return 2
    job = json.loads(sys.argv[1])
    threads = int(job["threads"])
    torch.set_num_threads(threads)
    results = []
    deadline = job.get("deadline")  # epoch seconds (--quick) or None
    for wl in job["workloads"]:
        if deadline is not None and time.time() > deadline:
            results.append({"id": wl["id"], "timesMs": [], "peakRssMiB": None, "skipped": "--quick time budget spent before this workload"})
            continue
        can_reset = reset_peak_rss()
        try:
            times = run_workload(wl)
            results.append({"id": wl["id"], "timesMs": times, "peakRssMiB": peak_rss_mib() if can_reset else None})
        except Exception as e:  # a failing workload is reported, the others still run
            results.append({"id": wl["id"], "timesMs": [], "peakRssMiB": None, "error": f"{type(e).__name__}: {e}"})
        sys.stderr.write(f"[torch] {wl['id']} done\n")
    out = {
        "ok": True,
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
        "threads": torch.get_num_threads(),
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "results": results,
    }
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
