import pytest
import torch
import torch.nn.functional as F

from ecrs_analysis.models.depthwise import SMALL_VOLUME, DepthwiseConv3d, _DepthwiseConv3dFunction


@pytest.mark.parametrize("size", [2, 5, 8, 12])  # both kernel-gradient routes: up to SMALL_VOLUME voxels and above
@pytest.mark.parametrize("channels_last", [False, True])
def test_gradients_equal_pytorchs_own_depthwise_convolution(size, channels_last):
    torch.manual_seed(size)
    conv = DepthwiseConv3d(6, 3).double()
    x = torch.randn(3, 6, size, size, size, dtype=torch.float64)
    if channels_last:
        conv, x = conv.to(memory_format=torch.channels_last_3d), x.contiguous(memory_format=torch.channels_last_3d)
    go = torch.randn(3, 6, size, size, size, dtype=torch.float64)
    # reference: the stock depthwise convolution and PyTorch's autograd
    w_ref, x_ref = conv.weight.detach().clone().requires_grad_(), x.clone().requires_grad_()
    F.conv3d(x_ref, w_ref, padding=1, groups=6).backward(go)
    x_ours = x.clone().requires_grad_()
    out = conv(x_ours)
    out.backward(go)
    assert torch.allclose(out, F.conv3d(x, w_ref.detach(), padding=1, groups=6))
    assert torch.allclose(x_ours.grad, x_ref.grad, atol=1e-10)
    assert torch.allclose(conv.weight.grad, w_ref.grad, atol=1e-10)
    assert (size**3 <= SMALL_VOLUME) == (size <= 8)


def test_gradcheck_and_a_frozen_kernel():
    conv = DepthwiseConv3d(2, 3).double()
    x = torch.randn(2, 2, 4, 4, 4, dtype=torch.float64, requires_grad=True)
    w = conv.weight.detach().clone().requires_grad_()
    # against finite differences: the input and the kernel gradient
    assert torch.autograd.gradcheck(lambda a, k: _DepthwiseConv3dFunction.apply(a, k, (1, 1, 1)), (x, w))
    conv.weight.requires_grad_(False)  # e.g. Grad-CAM of a frozen network: only the input gradient
    conv(x).sum().backward()
    assert x.grad is not None and conv.weight.grad is None


def test_it_is_a_conv3d_with_the_stock_parameters():
    conv = DepthwiseConv3d(4, 5)
    assert isinstance(conv, torch.nn.Conv3d) and conv.padding == (2, 2, 2) and conv.groups == 4 and conv.bias is None
    assert set(conv.state_dict()) == {"weight"}
    with pytest.raises(ValueError, match="odd"):
        DepthwiseConv3d(4, 4)
