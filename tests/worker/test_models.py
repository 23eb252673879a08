"""The architectures of docs/science.md: shapes, the paper's layer sizes, BatchNorm on and off."""

import torch
from torch import nn

from worker.engine.models import BasicBlock, ConvNet, FixupBlock, FixupResNet, ResNet, make_model
from worker.engine.spec import RunSpec


def test_convnet_is_the_papers_at_width_64():
    net = ConvNet(64)
    convs = [m for m in net if isinstance(m, nn.Conv2d)]
    dense = [m for m in net if isinstance(m, nn.Linear)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.padding) for c in convs] == [
        (3, 64, (3, 3), (0, 0)),
        (64, 64, (3, 3), (0, 0)),
        (64, 128, (3, 3), (0, 0)),
        (128, 128, (3, 3), (0, 0)),
        (128, 128, (3, 3), (0, 0)),
    ]
    assert [(d.in_features, d.out_features) for d in dense] == [(2048, 512), (512, 128), (128, 2)]
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 2)


def test_convnet_dropout_sits_on_the_two_dense_layers():
    net = ConvNet(16, dropout=0.5)
    kinds = [type(m).__name__ for m in net]
    assert kinds.count("Dropout") == 2 and kinds[-1] == "Linear" and kinds[-2] == "Dropout"


def test_resnet_with_and_without_batchnorm():
    for bn in (True, False):
        net = ResNet(8, batchnorm=bn)
        has_bn = any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
        assert has_bn is bn
        assert net(torch.zeros(3, 3, 32, 32)).shape == (3, 2)
    strides = [m.stride for m in ResNet(8).modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    assert strides.count((2, 2)) == 2  # stride 2 at the start of stages 2 and 3


def test_fixup_resnet_starts_each_block_as_its_shortcut():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 16, 16)
    blocks = [m for m in FixupResNet(8).modules() if isinstance(m, FixupBlock)]
    assert len(blocks) == 6
    for block in blocks[:2]:  # identity shortcuts: the block passes its (non-negative) input through
        assert torch.equal(block(x.relu()), x.relu())
    plain = [m for m in ResNet(8, batchnorm=False).modules() if isinstance(m, BasicBlock)]
    assert not torch.equal(plain[0](x.relu()), x.relu())  # the plain network: no such start


def test_logistic_regression_starts_at_zero_and_mlp_has_the_widths():
    lr = make_model(RunSpec(model="logreg"), (2,))
    assert all(float(p.abs().sum()) == 0 for p in lr.parameters())
    mlp = make_model(RunSpec(model="mlp", hidden=[5, 7], batchnorm=True, dropout=0.1), (64,))
    widths = [m.out_features for m in mlp if isinstance(m, nn.Linear)]
    assert widths == [5, 7, 2] and sum(isinstance(m, nn.BatchNorm1d) for m in mlp) == 2
