"""The VAE on its own: sampling draws from the softmax, the loss, initialisation."""

from __future__ import annotations

import math

import pytest
import torch

from synthvae.model import TabularVAE, VAEConfig
from synthvae.training import TrainConfig, category_weights


def _model(widths=(3, 2), n_cont=1) -> TabularVAE:
    cont = tuple(range(n_cont))
    one_hot = tuple(range(n_cont, n_cont + sum(widths)))
    segment = tuple(i for i, w in enumerate(widths) for _ in range(w))
    config = VAEConfig(data_dim=n_cont + sum(widths), continuous_index=cont, one_hot_index=one_hot,
                       one_hot_segment=segment, latent_dim=4, hidden_dims=(8,))
    return TabularVAE(config, generator=torch.Generator().manual_seed(0))


def test_sampling_draws_each_span_from_its_softmax():
    model = _model()
    probs = torch.tensor([0.2, 0.3, 0.5, 0.9, 0.1])
    means = torch.cat([torch.tensor([1.5]), probs])
    with torch.no_grad():
        model.decoder[-1].weight.zero_()
    model.init_output_bias(means)
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(40_000, 4, generator=gen)
    out = model.sample_matrix(z, gen)
    first = torch.bincount(out[:, 1:4].argmax(dim=1), minlength=3) / len(z)
    second = torch.bincount(out[:, 4:6].argmax(dim=1), minlength=2) / len(z)
    assert torch.allclose(first, probs[:3], atol=0.01)
    assert torch.allclose(second, probs[3:], atol=0.01)
    assert abs(float(out[:, 0].mean()) - 1.5) < 0.01
    assert abs(float(out[:, 0].std()) - float(model.sigma.detach()[0])) < 0.01


def test_loss_parts_are_the_negative_elbo():
    model = _model()
    x = torch.tensor([[0.3, 0.0, 1.0, 0.0, 1.0, 0.0]])
    out = model(x, generator=torch.Generator().manual_seed(0))
    parts = model.loss(x, out, beta=1.0)
    sigma = model.sigma[0]
    gauss = (0.3 - out.recon[0, 0]) ** 2 / (2 * sigma**2) + torch.log(sigma)
    ce = -torch.log_softmax(out.recon[0, 1:4], 0)[1] - torch.log_softmax(out.recon[0, 4:6], 0)[0]
    kl = -0.5 * torch.sum(1 + out.logvar - out.mu**2 - out.logvar.exp())
    assert torch.allclose(parts.continuous, gauss, atol=1e-5)
    assert torch.allclose(parts.categorical, ce, atol=1e-5)
    assert torch.allclose(parts.kl, kl, atol=1e-5)
    assert torch.allclose(parts.total, gauss + ce + kl, atol=1e-5)


def test_initial_weights_come_from_the_generator_only():
    a, b = _model(), _model()
    for (name, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(pa, pb), name
    assert math.isclose(float(a.log_sigma.detach()[0]), math.log(0.1), rel_tol=1e-6)


def test_span_weights_scale_each_span_cross_entropy():
    model = _model()
    x = torch.tensor([[0.3, 0.0, 1.0, 0.0, 1.0, 0.0], [-0.2, 1.0, 0.0, 0.0, 0.0, 1.0]])
    out = model(x, generator=torch.Generator().manual_seed(0))
    plain = model.loss(x, out, beta=0.5)
    ones = model.loss(x, out, beta=0.5, span_weights=torch.ones(2))
    assert torch.allclose(ones.total, plain.total, atol=1e-6)
    weighted = model.loss(x, out, beta=0.5, span_weights=torch.tensor([3.0, 1.0]))
    first = -(torch.log_softmax(out.recon[:, 1:4], 1) * x[:, 1:4]).sum() / 2
    assert torch.allclose(weighted.categorical, plain.categorical, atol=1e-6)  # reported unweighted
    assert torch.allclose(weighted.total, plain.total + 2 * first, atol=1e-5)


def test_category_weights_make_low_entropy_columns_worth_a_balance():
    model = _model()  # spans: matrix columns 1-3 (3 categories) and 4-5 (2 categories)
    means = torch.tensor([0.0, 1 / 3, 1 / 3, 1 / 3, 0.9, 0.1], dtype=torch.float64)
    weights = category_weights(model, means, balance=2.0)
    binary = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))  # 0.325 nats
    assert weights.tolist() == pytest.approx([max(1.0, 2.0 / math.log(3)), 2.0 / binary], rel=1e-6)
    assert category_weights(model, means, balance=0.5).tolist() == pytest.approx([1.0, 0.5 / binary], rel=1e-6)
    assert category_weights(model, means, balance=0.0) is None


def test_categorical_head_adds_to_the_one_hot_logits_and_the_fast_decoder_agrees():
    config = VAEConfig(data_dim=6, continuous_index=(0,), one_hot_index=(1, 2, 3, 4, 5),
                       one_hot_segment=(0, 0, 0, 1, 1), latent_dim=4, hidden_dims=(16,), categorical_head=8)
    model = TabularVAE(config, generator=torch.Generator().manual_seed(0))
    z = torch.randn(10, 4, generator=torch.Generator().manual_seed(1))
    plain = model.decoder(z)
    assert torch.equal(model.decode(z), plain)  # the head's last layer starts at zero
    with torch.no_grad():
        model.categorical_head[-1].weight.normal_(generator=torch.Generator().manual_seed(2))
    out = model.decode(z)
    assert torch.equal(out[:, 0], plain[:, 0]) and not torch.allclose(out[:, 1:], plain[:, 1:])
    block = torch.empty(6, 10)
    with torch.no_grad():
        model._decode_into(z, block)
    assert torch.allclose(block.T, out, atol=1e-5)
    assert TabularVAE(VAEConfig.from_dict({k: v for k, v in config.to_dict().items() if k != "categorical_head"})).categorical_head is None


def test_match_category_shares_moves_the_mean_probabilities_onto_the_targets():
    config = VAEConfig(data_dim=7, continuous_index=(0, 6), one_hot_index=(1, 2, 3, 4, 5),
                       one_hot_segment=(0, 0, 0, 1, 1), latent_dim=4, hidden_dims=(16,), categorical_head=8)
    model = TabularVAE(config, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():  # categories that depend strongly on z
        model.categorical_head[-1].weight.normal_(std=3.0, generator=torch.Generator().manual_seed(2))
    z = torch.randn(5000, 4, generator=torch.Generator().manual_seed(1))
    shares = torch.tensor([0.7, 0.2, 0.1, 0.95, 0.05])

    def mean_probs() -> torch.Tensor:
        out = model.decode(z)
        return torch.cat([torch.softmax(out[:, 1:4], 1).mean(0), torch.softmax(out[:, 4:6], 1).mean(0)])

    before = mean_probs().detach()
    continuous = model.decode(z)[:, [0, 6]].detach()
    assert (before - shares).abs().max() > 0.05
    model.match_category_shares(z, shares)
    assert torch.allclose(mean_probs(), shares, atol=1e-3)
    assert torch.equal(model.decode(z)[:, [0, 6]], continuous)  # continuous outputs untouched


def _copying_model() -> TabularVAE:
    """Two binary spans; the autoregressive head makes the second a copy of the first, which is
    drawn 50/50 whatever ``z``."""
    config = VAEConfig(data_dim=5, continuous_index=(0,), one_hot_index=(1, 2, 3, 4), one_hot_segment=(0, 0, 1, 1),
                       latent_dim=2, hidden_dims=(8,), categorical_head=4, autoregressive=4)
    model = TabularVAE(config, generator=torch.Generator().manual_seed(0))
    first, _, last = model.categorical_head
    with torch.no_grad():
        model.decoder[-1].weight.zero_()
        model.decoder[-1].bias.zero_()
        first.weight.zero_()
        first.bias.zero_()
        model.ar_in[0, 0] = model.ar_in[1, 1] = 5.0  # unit 0 fires for A = 0, unit 1 for A = 1
        last.weight[2, 0] = last.weight[3, 1] = 10.0
        last.weight[2, 1] = last.weight[3, 0] = -10.0
        # weights no mask allows (span A reading any unit): must have no effect
        last.weight[0, 0] = last.weight[1, 1] = 50.0
    return model


def test_an_autoregressive_head_reads_only_the_spans_before_each_span():
    model = _copying_model()
    z = torch.randn(6, 2, generator=torch.Generator().manual_seed(1))
    x = torch.zeros(6, 5)
    x[:, 1], x[:, 3] = 1.0, 1.0  # A = 0, B = 0
    before = model.decode(z, x)
    assert torch.equal(before[:, 1:3], torch.zeros(6, 2))  # span A sees neither itself nor B
    flipped = x.clone()
    flipped[:, 3], flipped[:, 4] = 0.0, 1.0  # B changed: nothing changes
    assert torch.equal(model.decode(z, flipped), before)
    flipped = x.clone()
    flipped[:, 1], flipped[:, 2] = 0.0, 1.0  # A changed: B's logits follow it
    after = model.decode(z, flipped)
    assert (before[:, 3] > before[:, 4]).all() and (after[:, 4] > after[:, 3]).all()


def test_sampling_draws_the_spans_in_order_and_known_spans_are_scored_after_the_drawn_ones():
    model = _copying_model()
    gen = torch.Generator().manual_seed(2)
    z = torch.randn(4000, 2, generator=gen)
    out = model.sample_matrix(z, gen)
    a, b = out[:, 1:3].argmax(1), out[:, 3:5].argmax(1)
    assert torch.equal(a, b) and abs(float(a.float().mean()) - 0.5) < 0.03
    # B known (= 1), A drawn: the outputs pin A to its draw, and B's likelihood is high exactly
    # where the drawn A is 1, so weighing by it and keeping the outputs keeps A = B.
    x = torch.zeros(4000, 5)
    x[:, 4] = 1.0
    known = torch.zeros(4000, 5, dtype=torch.bool)
    known[:, 3:5] = True
    recon = model.decode(z, x, known, torch.Generator().manual_seed(3))
    drawn_a = recon[:, 1:3].argmax(1)
    assert torch.equal(model.add_noise(recon, torch.Generator().manual_seed(4))[:, 1:3].argmax(1), drawn_a)
    likely = model.cell_log_likelihood(x, recon)[:, 4] > -1.0
    assert torch.equal(likely, drawn_a == 1) and 0.4 < float(likely.float().mean()) < 0.6


def test_decoding_up_to_a_known_span_then_finishing_draws_the_later_spans_given_the_earlier():
    model = _copying_model()
    z = torch.randn(4000, 2, generator=torch.Generator().manual_seed(2))
    x = torch.zeros(4000, 5)
    known = torch.zeros(4000, 5, dtype=torch.bool)
    assert model.spans_through(known[0]) == 0
    x[:2000, 2] = 1.0  # A known: 1 in the first half, 0 in the second
    x[2000:, 1] = 1.0
    known[:, 1:3] = True
    assert model.spans_through(known[0]) == 1
    recon, state = model.decode(z, x, known, torch.Generator().manual_seed(3), stop=1)
    assert torch.equal(recon[:, 1:3], model.decode(z, x, known, torch.Generator().manual_seed(3))[:, 1:3])
    done = model.finish_decode(recon, state, 1, torch.Generator().manual_seed(4))
    assert torch.equal(done[:, 1:3], recon[:, 1:3])  # the known span keeps its logits
    drawn_b = done[:, 3:5].argmax(1)
    assert torch.equal(drawn_b, x[:, 1:3].argmax(1))  # B copies the known A
    # B is pinned to its draw: any later draw from the outputs gives it again.
    assert torch.equal(model.add_noise(done, torch.Generator().manual_seed(5))[:, 3:5].argmax(1), drawn_b)


def test_add_noise_on_some_columns_draws_only_those():
    model = _copying_model()
    out = model.decode(torch.randn(500, 2, generator=torch.Generator().manual_seed(0)))
    columns = torch.tensor([True, False, False, True, True])  # the continuous column and span B
    sampled = model.add_noise(out, torch.Generator().manual_seed(1), columns)
    assert torch.equal(sampled[:, 1:3], out[:, 1:3])  # span A left at its logits
    assert not torch.equal(sampled[:, 0], out[:, 0])
    assert torch.equal(sampled[:, 3:5].sum(1), torch.ones(500)) and set(sampled[:, 3:5].unique().tolist()) == {0.0, 1.0}
    assert torch.equal(out, model.decode(torch.randn(500, 2, generator=torch.Generator().manual_seed(0))))  # outputs untouched


def test_fast_ordered_sampling_draws_the_joint_the_ancestral_decoder_draws():
    # Six spans, binary ones and one wide enough for the running-sum draw, under random head
    # weights: sample_matrix (units taken in order of degree) and decode with every span drawn
    # and pinned (the reference, span after span over all units) give the same joint.
    widths = (2, 3, 2, 30, 2, 4)
    one_hot = tuple(range(1, 1 + sum(widths)))
    segment = tuple(i for i, w in enumerate(widths) for _ in range(w))
    config = VAEConfig(data_dim=1 + sum(widths), continuous_index=(0,), one_hot_index=one_hot, one_hot_segment=segment,
                       latent_dim=2, hidden_dims=(8,), categorical_head=12, autoregressive=7)
    model = TabularVAE(config, generator=torch.Generator().manual_seed(0))
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        model.ar_in.copy_(torch.randn(model.ar_in.shape, generator=gen) * 2)
        model.categorical_head[-1].weight.copy_(torch.randn(model.categorical_head[-1].weight.shape, generator=gen))
    model.eval()
    rows = 40_000
    z = torch.zeros(rows, 2)  # one fixed joint over the spans
    fast = model.sample_matrix(z, torch.Generator().manual_seed(2))[:, 1:]
    with torch.inference_mode():
        pinned = model.decode(z, torch.zeros(rows, config.data_dim), torch.zeros(rows, config.data_dim, dtype=torch.bool),
                              torch.Generator().manual_seed(3))[:, 1:]
    starts = [sum(widths[:i]) for i in range(len(widths))]

    def entries(out: torch.Tensor) -> list[torch.Tensor]:
        return [out[:, s : s + w].argmax(1) for s, w in zip(starts, widths)]

    a, b = entries(fast), entries(pinned)
    for i in range(len(widths)):
        for j in range(i + 1, len(widths)):
            pair_a = torch.bincount(a[i] * widths[j] + a[j], minlength=widths[i] * widths[j]).double() / rows
            pair_b = torch.bincount(b[i] * widths[j] + b[j], minlength=widths[i] * widths[j]).double() / rows
            assert (pair_a - pair_b).abs().max() < 5 * math.sqrt(0.25 * 2 / rows), (i, j)
    # the spans depend on each other: the joint is not the product of its margins
    joint = torch.bincount(a[0] * widths[1] + a[1], minlength=6).double() / rows
    margins = torch.outer(torch.bincount(a[0], minlength=2).double(), torch.bincount(a[1], minlength=3).double()) / rows**2
    assert (joint - margins.flatten()).abs().max() > 0.02


def test_default_epochs_give_a_small_narrow_table_its_minimum_steps():
    def steps(rows: int, columns: int, **kw) -> tuple[int, int]:
        config = TrainConfig(columns=columns, **kw)
        epochs = config.resolve_epochs(rows)
        return epochs, epochs * math.ceil(rows / config.resolve_batch_size(rows))

    # seattle_weather's training split: 9 steps an epoch, 6 columns would cap it at 30 epochs
    assert steps(1051, 6) == (45, 405)
    # tables whose column cap already gives the steps keep their epochs
    assert steps(720, 21)[0] == 63 and steps(7200, 55)[0] == 165 and steps(38836, 10)[0] == 30
    # a tiny table: the floor stops at max_epochs; min_steps=0 gives the column rule alone
    assert steps(50, 3) == (300, 300)
    assert steps(1051, 6, min_steps=0)[0] == 30


def test_logsumexp_matches_torch_on_spread_values_and_infinite_rows():
    from synthvae.model import logsumexp

    generator = torch.Generator().manual_seed(0)
    values = torch.randn((4096, 38), generator=generator) * 60  # terms hundreds of nats apart
    values[0] = -torch.inf
    values[1, :5] = -torch.inf
    values[2, 3] = 1e4  # one certain entry (a forbidding or forcing logit shift)
    for dim, keepdim in ((1, False), (0, True), (1, True)):
        assert torch.equal(logsumexp(values, dim, keepdim), torch.logsumexp(values, dim, keepdim=keepdim))
    wide = values.double() * 10
    assert torch.equal(logsumexp(wide, 1), torch.logsumexp(wide, 1))
    assert logsumexp(torch.full((2, 3), -torch.inf), 1).eq(-torch.inf).all()
