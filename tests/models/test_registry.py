import pytest
import torch

from ecrs_analysis.models import MODEL_NAMES, build_model, count_flops, count_parameters
from ecrs_analysis.models.xception3d import SeparableConv3d


@pytest.mark.parametrize("name", ["resnet3d", "xception3d", "hrnet3d"])
@pytest.mark.parametrize("shape", [(2, 1, 16, 16, 16), (3, 1, 24, 20, 16)])
def test_tiny_inputs_give_one_logit_pair_each(name, shape):
    torch.manual_seed(0)
    model = build_model(name, in_channels=1, num_classes=2, width=0.125)
    out = model(torch.randn(*shape))
    assert out.shape == (shape[0], 2) and torch.isfinite(out).all()
    out.sum().backward()  # gradients reach the first layer
    first = next(p for p in model.parameters() if p.dim() == 5)
    assert first.grad is not None and first.grad.abs().sum() > 0


@pytest.mark.parametrize("name", ["resnet3d", "xception3d", "hrnet3d"])
def test_width_scales_parameters_and_flops(name):
    small, big = build_model(name, width=0.125), build_model(name, width=0.25)
    assert count_parameters(big) > 2 * count_parameters(small)
    assert count_flops(big, (16, 16, 16)) > count_flops(small, (16, 16, 16)) > 0


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError) as e:
        build_model("vgg3d")
    for n in MODEL_NAMES:
        assert n in str(e.value)


def test_separable_convolution_is_depthwise_then_pointwise():
    conv = SeparableConv3d(8, 16)
    assert conv.depthwise.groups == 8 and conv.depthwise.weight.shape == (8, 1, 3, 3, 3)
    assert conv.pointwise.weight.shape == (16, 8, 1, 1, 1)
    # far fewer weights than a dense 3x3x3 convolution
    assert sum(p.numel() for p in conv.parameters()) < 8 * 16 * 27 / 5


def test_hrnet_keeps_parallel_resolutions():
    from ecrs_analysis.models.hrnet3d import HRNet3D

    net = HRNet3D(1, 2, width=4, branches=3, blocks=1)
    x = net.stem(torch.randn(1, 1, 32, 32, 32))
    xs = [x]
    for k, stage in enumerate(net.stages):
        if k:
            xs = xs + [net.transitions[k - 1](xs[-1])]
        xs = stage(xs)
    assert [t.shape[2] for t in xs] == [16, 8, 4] and [t.shape[1] for t in xs] == [4, 8, 16]


def test_hrnet_depth_scales_with_width_like_the_published_w32_at_full_width():
    blocks = lambda w: len(build_model("hrnet3d", width=w).stages[0].branches[0])  # noqa: E731
    assert [blocks(w) for w in (1.0, 0.5, 0.25, 0.125)] == [4, 2, 1, 1]
