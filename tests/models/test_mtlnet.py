"""MTLNet: output shapes, gradients of both heads, deep supervision, single-head variants, registry entry."""

import pytest
import torch

from ecrs_analysis.models import build_model, count_flops, count_parameters, size_table
from ecrs_analysis.models.mtlnet import MTLNet


def _grad_norm(module):
    grads = [p.grad.abs().sum() for p in module.parameters() if p.grad is not None]
    return float(sum(grads)) if grads else 0.0


@pytest.mark.parametrize("shape", [(2, 1, 16, 16, 16), (3, 1, 24, 16, 8)])
def test_shapes_of_both_heads(shape):
    torch.manual_seed(0)
    net = MTLNet(1, 1, init_filters=4)
    seg, cls = net(torch.randn(*shape))
    assert seg.shape == shape and cls.shape == (shape[0], 1)
    assert torch.isfinite(seg).all() and torch.isfinite(cls).all()


def test_each_loss_reaches_its_head_and_the_shared_encoder():
    torch.manual_seed(0)
    x = torch.randn(2, 1, 16, 16, 16)
    for which in ("segmentation", "classification"):
        net = MTLNet(1, 1, init_filters=4)
        seg, cls = net(x)
        (seg.mean() if which == "segmentation" else cls.sum()).backward()
        assert _grad_norm(net.convInit) > 0 and _grad_norm(net.down_layers) > 0  # shared encoder
        if which == "segmentation":
            assert _grad_norm(net.up_layers) > 0 and _grad_norm(net.conv_final) > 0 and _grad_norm(net.classifier) == 0
        else:
            assert _grad_norm(net.classifier) > 0 and _grad_norm(net.up_layers) == 0 and _grad_norm(net.conv_final) == 0


def test_deep_supervision_lists_coarser_outputs_in_training_only():
    torch.manual_seed(0)
    net = MTLNet(1, 1, init_filters=4, deep_supervision=True)
    seg, cls = net.train()(torch.randn(2, 1, 16, 16, 16))
    assert [tuple(s.shape[2:]) for s in seg] == [(16, 16, 16), (8, 8, 8), (4, 4, 4)] and cls.shape == (2, 1)
    sum(s.mean() for s in seg).backward()
    assert all(_grad_norm(h) > 0 for h in net.aux_heads)
    seg, _ = net.eval()(torch.randn(1, 1, 16, 16, 16))
    assert isinstance(seg, torch.Tensor) and seg.shape == (1, 1, 16, 16, 16)


def test_single_head_variants_are_the_same_network_with_one_head():
    full = MTLNet(1, 1, init_filters=4)
    cls_only = MTLNet(1, 1, init_filters=4, heads=("classification",))
    seg_only = MTLNet(1, 1, init_filters=4, heads=("segmentation",))
    x = torch.randn(2, 1, 16, 16, 16)
    seg, cls = cls_only(x)
    assert seg is None and cls.shape == (2, 1)
    seg, cls = seg_only(x)
    assert cls is None and seg.shape == x.shape
    n_full, n_cls, n_seg = (count_parameters(m) for m in (full, cls_only, seg_only))
    assert n_full == n_cls + n_seg - count_parameters(full.convInit) - count_parameters(full.down_layers)  # encoder shared, heads disjoint
    with pytest.raises(ValueError, match="heads"):
        MTLNet(1, 1, heads=("detection",))
    with pytest.raises(ValueError, match="multiple of 4"):
        MTLNet(1, 1, init_filters=6)


def test_registry_entry_width_size_table_and_binary_logit():
    small, big = build_model("mtlnet", width=0.125), build_model("mtlnet", width=0.25)
    assert count_parameters(big) > 3 * count_parameters(small)
    assert count_flops(big, (16, 16, 16)) > count_flops(small, (16, 16, 16)) > 0
    _, cls = build_model("mtlnet", num_classes=2, width=0.125)(torch.randn(2, 1, 16, 16, 16))
    assert cls.shape == (2, 1)  # a binary endotype: one logit for the BCE
    _, cls3 = build_model("mtlnet", num_classes=3, width=0.125)(torch.randn(2, 1, 16, 16, 16))
    assert cls3.shape == (2, 3)
    table = size_table(("mtlnet", "resnet3d"), widths=(0.125,), input_size=(16, 16, 16))
    assert table.loc[("mtlnet", 0.125), "parameters (M)"] == pytest.approx(count_parameters(small) / 1e6)
