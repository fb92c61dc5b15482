"""benchmarks/hate_finetune.py's LoRA branch: adapters on every linear layer of the six transformer layers,
the pretrained weights frozen, and at the start exactly the pretrained encoder (B starts at zero)."""

from __future__ import annotations

import numpy as np

from benchmarks.hate_finetune import Branch

TEXTS = ["Lovely turnout at the Workington food bank today", "they should all be sent back"]


def test_lora_branch_trains_only_the_adapters_and_starts_as_the_pretrained_encoder():
    lora, full = Branch(rank=4, threads=1), Branch(rank=0, threads=1)
    # 6 layers x (query, key, value, attention output: 384 -> 384; intermediate 384 -> 1536; output 1536 -> 384)
    per_layer = 4 * 4 * (384 + 384) + 2 * 4 * (384 + 1536)
    assert sum(p.numel() for p in lora.parameters()) == 6 * per_layer
    assert sum(p.numel() for p in full.parameters()) > 20_000_000  # every weight, embeddings included
    np.testing.assert_allclose(lora.predict(TEXTS), full.predict(TEXTS), atol=1e-5)
    assert np.allclose(lora.predict(TEXTS).sum(1), 1.0, atol=1e-5)
