"""Grad-CAM on a tiny network with a planted feature: the map's maximum lands on it, and is 1, not 0."""

import numpy as np
import pytest
import torch
from monai.visualize.class_activation_maps import default_normalizer
from torch import nn

from ecrs_analysis.explain.cam import CamExplainer, SingleLogit, randomised_copy, unit_scale
from ecrs_analysis.models import CAM_LAYERS, build_model, cam_layer

PLANTED = (5, 9, 3)


class Planted(nn.Module):
    """A detector of bright voxels: identity convolution, ReLU, mean pool; class 1 = brightness, class 0 = its opposite."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv3d(1, 2, 3, padding=1, bias=False), nn.ReLU())
        self.head = nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(2, 2, bias=False))
        with torch.no_grad():
            self.features[0].weight.zero_()
            self.features[0].weight[:, 0, 1, 1, 1] = 1.0  # both channels copy the input
            self.head[2].weight.copy_(torch.tensor([[-1.0, -1.0], [1.0, 1.0]]))

    def forward(self, x):
        return self.head(self.features(x))


class TwoHeads(nn.Module):
    """A stand-in for MTLNet: returns (segmentation logits, class logits)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = Planted()

    def forward(self, x):
        f = self.net.features(x)
        return f[:, :1], self.net.head(f)


def _volume(seed=0):
    v = np.random.default_rng(seed).uniform(0.0, 0.3, size=(12, 12, 12)).astype(np.float32)
    v[PLANTED] = 1.0
    return v


@pytest.mark.parametrize("method", ["gradcam", "gradcampp"])
def test_map_maximum_is_the_planted_voxel_and_is_one(method):
    r = CamExplainer(Planted(), layer="features", method=method)(_volume(), class_idx=1)
    assert np.unravel_index(np.argmax(r.cam), r.cam.shape) == PLANTED
    assert r.cam[PLANTED] == pytest.approx(1.0)
    assert r.cam.min() == pytest.approx(0.0)
    assert r.class_idx == 1 and 0.5 < r.prob <= 1.0


def test_monai_default_normaliser_would_have_inverted_the_map():
    raw = torch.from_numpy(_volume())[None, None]
    assert float(default_normalizer(raw)[0, 0][PLANTED]) == pytest.approx(0.0)  # the trap
    assert float(unit_scale(raw)[0, 0][PLANTED]) == pytest.approx(1.0)  # what we use


def test_class_against_the_feature_gives_an_empty_map_not_an_error():
    r = CamExplainer(Planted(), layer="features")(_volume(), class_idx=0)
    assert r.empty and r.cam.max() == 0.0


def test_each_volume_is_explained_on_its_own():
    e = CamExplainer(Planted(), layer="features", method="gradcampp")
    a, b = _volume(1), _volume(2)
    b[PLANTED] = 0.0
    b[2, 2, 2] = 1.0
    first = e(a, class_idx=1).cam
    e(b, class_idx=1)
    assert np.allclose(e(a, class_idx=1).cam, first)  # nothing carried over between calls
    assert np.unravel_index(np.argmax(e(b, class_idx=1).cam), b.shape) == (2, 2, 2)


def test_multitask_wrapper_gives_the_classifier_map():
    two = TwoHeads()
    wrapped = SingleLogit(two, index=1)
    got = CamExplainer(wrapped, layer=SingleLogit.layer("net.features"))(_volume(), class_idx=1).cam
    ref = CamExplainer(two.net, layer="features")(_volume(), class_idx=1).cam
    assert np.allclose(got, ref)
    with pytest.raises(TypeError, match="tuple"):
        SingleLogit(Planted())(torch.zeros(1, 1, 4, 4, 4))


def test_unknown_layer_names_the_candidates():
    with pytest.raises(ValueError, match="features.0"):
        CamExplainer(Planted(), layer="layer4")


def test_randomised_copy_changes_weights_and_leaves_the_random_stream_alone():
    m = build_model("resnet3d", width=0.125)
    torch.manual_seed(3)
    expected = torch.rand(1)
    torch.manual_seed(3)
    r = randomised_copy(m, seed=1)
    assert torch.equal(torch.rand(1), expected)
    convs = [k for k, v in m.state_dict().items() if k.endswith("weight") and v.ndim > 1]  # BatchNorm resets to the same ones
    assert convs and all(not torch.equal(m.state_dict()[k], r.state_dict()[k]) for k in convs)


@pytest.mark.parametrize("name", ["resnet3d", "xception3d", "hrnet3d"])
def test_registry_layer_exists_and_still_sees_place_at_the_smallest_input(name):
    model = build_model(name, width=0.125).eval()
    layer = dict(model.named_modules())[cam_layer(name)]
    seen = {}
    layer.register_forward_hook(lambda _m, _i, o: seen.update(shape=o.shape) and None)
    with torch.no_grad():
        model(torch.zeros(1, 1, 24, 24, 24))
    assert min(seen["shape"][2:]) >= 3  # a 1-voxel map would say nothing about where
    assert name in CAM_LAYERS
    with pytest.raises(ValueError, match="CAM_LAYERS"):
        cam_layer("no_such_model")


def test_a_single_logit_multitask_output_becomes_two_classes_with_the_sigmoid_probability():
    import torch
    from torch import nn

    from ecrs_analysis.explain.cam import SingleLogit

    class TwoHeads(nn.Module):
        def forward(self, x):
            return x, x.mean(dim=(2, 3, 4)) * 4.0  # (segmentation, one endotype logit)

    x = torch.randn(2, 1, 4, 4, 4)
    z = x.mean(dim=(2, 3, 4)) * 4.0
    two = SingleLogit(TwoHeads())(x)
    assert two.shape == (2, 2)
    assert torch.allclose(torch.softmax(two, dim=1)[:, 1], torch.sigmoid(z[:, 0]))
