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


def _hand_count(f: int, *, in_channels: int = 1, num_classes: int = 1, blocks_down=(1, 2, 2, 4), blocks_up=(1, 1, 1), heads=("segmentation", "classification")) -> int:
    """MTLNet's trainable parameters counted from its description: SegResNet's encoder (bias-free 3x3x3
    convolutions, residual blocks of two convolutions and two GroupNorms, stride-2 convolutions between levels),
    its decoder (1x1x1 convolution halving the channels, 2x2x2 transposed convolution with bias, residual blocks),
    the 1x1x1 segmentation convolution after a GroupNorm, and the classifier (BatchNorm, Linear, Linear)."""
    res = lambda c: 2 * 27 * c * c + 2 * 2 * c  # noqa: E731  two 3x3x3 convolutions, two GroupNorms (weight + bias)
    levels = [f * 2**i for i in range(len(blocks_down))]
    n = 27 * in_channels * f
    for i, (c, k) in enumerate(zip(levels, blocks_down)):
        n += (27 * (c // 2) * c if i else 0) + k * res(c)
    if "segmentation" in heads:
        for c, k in zip(levels[::-1], blocks_up):
            n += c * (c // 2) + 8 * (c // 2) ** 2 + c // 2 + k * res(c // 2)
        n += 2 * f + f + 1
    if "classification" in heads:
        deep, hidden = levels[-1], max(8, levels[-1] // 2)
        n += 2 * deep + deep * hidden + hidden + hidden * num_classes + num_classes
    return n


@pytest.mark.parametrize("f, num_classes, heads", [(4, 1, ("segmentation", "classification")), (8, 3, ("segmentation", "classification")), (4, 1, ("classification",)), (12, 1, ("segmentation",))])
def test_parameter_count_matches_a_hand_count(f, num_classes, heads):
    net = MTLNet(1, num_classes, init_filters=f, heads=heads)
    assert count_parameters(net) == sum(p.numel() for p in net.parameters() if p.requires_grad) == _hand_count(f, num_classes=num_classes, heads=heads)


def _toy(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Noisy 16^3 volumes with one bright cube: the mask is the cube, the class whether it lies in the upper half."""
    g = torch.Generator().manual_seed(seed)
    x = 0.3 * torch.randn(n, 1, 16, 16, 16, generator=g)
    mask = torch.zeros(n, 1, 16, 16, 16)
    label = torch.zeros(n, 1)
    for i in range(n):
        z = int(torch.randint(0, 2, (1,), generator=g)) * 8 + int(torch.randint(1, 3, (1,), generator=g))
        y, xx = (int(v) for v in torch.randint(2, 9, (2,), generator=g))
        mask[i, 0, z : z + 5, y : y + 5, xx : xx + 5] = 1
        label[i, 0] = float(z >= 8)
    return x + mask, mask, label


def test_the_segmentation_output_follows_the_object_in_the_input():
    torch.manual_seed(0)
    net = MTLNet(1, 1, init_filters=4).eval()
    x, mask, _ = _toy(2, seed=1)
    with torch.no_grad():
        seg, _ = net(x)
        moved, _ = net(torch.roll(x, shifts=4, dims=4))
        alone, _ = net(x[:1])
    assert not torch.allclose(seg, moved)  # the output responds to the input ...
    assert torch.allclose(seg[:1], alone, atol=1e-5)  # ... to this patient's only (no batch statistics in evaluation)
    changed = (seg - moved).abs()[0, 0]
    cube = (mask[0, 0] + torch.roll(mask, 4, dims=4)[0, 0]) > 0
    assert changed[cube].mean() > 1.5 * changed[~cube].mean()  # most where the object was and went (an untrained net sees far)


@pytest.fixture
def one_thread():
    """One intra-op thread: on a shared 2-core machine more threads only wait for each other (seconds become minutes)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_a_few_steps_on_a_toy_problem_lower_both_losses(one_thread):
    torch.manual_seed(0)
    net = MTLNet(1, 1, init_filters=4, dropout=0.0)
    x, mask, label = _toy(6, seed=2)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    bce = torch.nn.BCEWithLogitsLoss()
    losses = []
    for _ in range(20):
        seg, cls = net.train()(x)
        seg_loss, cls_loss = bce(seg, mask), bce(cls, label)
        losses.append((seg_loss.item(), cls_loss.item()))
        opt.zero_grad()
        (seg_loss + cls_loss).backward()
        opt.step()
    first, last = losses[0], losses[-1]
    assert last[0] < 0.7 * first[0] and last[1] < 0.5 * first[1], losses
    assert all(b[0] < a[0] for a, b in zip(losses, losses[1:]))  # the segmentation loss falls at every step
    with torch.no_grad():
        seg, _ = net.eval()(x)
    inside, outside = torch.sigmoid(seg)[mask > 0].mean(), torch.sigmoid(seg)[mask == 0].mean()
    assert inside > outside + 0.05  # the segmentation head begins to tell the cube from the background
