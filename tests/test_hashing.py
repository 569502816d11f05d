"""Content hashes of network weights: what a checkpoint computes, not what else it holds."""

import torch

from ecrs_analysis.hashing import weights_sha256


def test_weights_hash_follows_the_weights_only(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2)
    a = {"model": net.state_dict(), "history": {"seconds": [1.2]}}
    b = {"model": {k: v.clone() for k, v in net.state_dict().items()}, "history": {"seconds": [3.4]}}  # another run's timings
    torch.save(a, tmp_path / "a.pt")
    torch.save(b, tmp_path / "b.pt")
    assert (tmp_path / "a.pt").read_bytes() != (tmp_path / "b.pt").read_bytes()
    assert weights_sha256(a["model"]) == weights_sha256(torch.load(tmp_path / "b.pt")["model"])
    with torch.no_grad():
        net.bias[0] += 1e-6
    assert weights_sha256(net.state_dict()) != weights_sha256(b["model"])
