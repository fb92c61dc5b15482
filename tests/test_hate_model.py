"""Training the hate model moves the fine-tuned copy of the top layers and nothing that is shared, and the
saved weights load back to the same numbers (a few steps on a handful of rows; the real run is
``python -m classifiers.train_hate``)."""

from __future__ import annotations

import numpy as np

from classifiers import hate_model as M
from classifiers.hate_corpus import Row


def test_a_few_steps_train_the_branch_only_and_the_weights_round_trip(tmp_path):
    rows = [Row("you people are vermin, get out", "mhs", "train", 1, 1, (0, 0, 1, 0, 0, 0, 0)),
            Row("lovely morning on the harbour", "mhs", "train", 0, None, None),
            Row("shut up you idiot", "olid", "train", None, 1, None)] * 11
    packaged, _ = M.packaged_model()
    before = {n: p.detach().clone() for n, p in packaged.named_parameters()}
    start = M.new_branch(packaged).state_dict()
    bert, branch = M.fit(rows, lambda t: t, epochs=1.0, batch=16, log=lambda m: None)
    moved = [n for n, p in branch.state_dict().items() if not np.allclose(p.numpy(), start[n].numpy())]
    assert any(n.startswith("layers.") for n in moved) and any(n.startswith("out.") for n in moved)
    assert all(np.array_equal(p.detach().numpy(), before[n].numpy()) for n, p in bert.named_parameters())
    M.save_branch(branch, tmp_path / M.WEIGHTS_FILE)
    again = M.load_branch(bert, tmp_path / M.WEIGHTS_FILE)
    texts = ["you people are vermin", "a lovely morning"]
    a = M.predict(bert, branch, lambda t: t, texts)
    b = M.predict(bert, again, lambda t: t, texts)
    assert a.shape == (2, len(M.OUTPUTS)) and np.abs(a - b).max() < 0.02  # float16 on disk
