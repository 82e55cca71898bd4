"""Parity with pytorch-fid's FID Inception (dev-only: skipped without torch and pytorch-fid).

Runs ``benchmarks/inception_parity.py``: random pytorch-fid weights saved by ``torch.save``
(legacy layout, like the published file), converted by the torch-free reader, pool3 features
and logits compared on the same images within 1e-4 of the features' scale.
"""

import json
import runpy
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "inception_parity.py"


@pytest.mark.slow
def test_features_and_logits_match_pytorch_fid(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("pytorch_fid")
    if not SCRIPT.is_file():
        pytest.skip("benchmarks/ is in the repository only")
    main = runpy.run_path(str(SCRIPT))["main"]
    out = tmp_path / "parity.json"
    assert main(["--images", "2", "--size", "48", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    for name in ("pool3", "logits"):
        assert report[name]["max_abs_diff"] <= 1e-4 * report[name]["scale"], report[name]
