"""Training-time helpers (torch / sklearn are used here only; inference is numpy in heads.py)."""

from __future__ import annotations

import numpy as np


def train_mlp(x, y, n_out: int, *, hidden: int = 512, epochs: int = 20, lr: float = 1e-3, wd: float = 1e-2,
              drop: float = 0.5, batch: int = 256, seed: int = 0, sample_weight=None, x_val=None, select=None):
    """1-hidden-layer MLP (softmax when n_out > 1, else sigmoid). With ``x_val``/``select(p_val)`` keeps the
    epoch whose validation score is best. Returns a list of (weight (in,out), bias) float32 layers."""
    import torch

    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Dropout(drop / 2), torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(),
                              torch.nn.Dropout(drop), torch.nn.Linear(hidden, n_out))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=wd)
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    sw = torch.tensor(np.ones(len(y)) if sample_weight is None else sample_weight, dtype=torch.float32)
    best, best_state = -1.0, None
    for _ in range(epochs):
        net.train()
        perm = torch.randperm(len(y))
        for s in range(0, len(y), batch):
            i = perm[s:s + batch]
            _weighted_step(torch, opt, net(xt[i]), yt[i], sw[i])
        if x_val is not None:
            net.eval()
            with torch.no_grad():
                o = net(torch.tensor(x_val, dtype=torch.float32))
                p = torch.softmax(o, 1) if n_out > 1 else torch.sigmoid(o)
            score = select(p.numpy())
            if score > best:
                best, best_state = score, {k: v.clone() for k, v in net.state_dict().items()}
    if best_state is not None:
        net.load_state_dict(best_state)
    return [(net[1].weight.detach().numpy().T.copy(), net[1].bias.detach().numpy().copy()),
            (net[4].weight.detach().numpy().T.copy(), net[4].bias.detach().numpy().copy())]


def _weighted_step(torch, opt, out, y, weight) -> None:
    """One optimiser step on the sample-weighted loss: binary cross-entropy for one output, else softmax."""
    if out.shape[1] == 1:
        loss = torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], y.float(), reduction="none")
    else:
        loss = torch.nn.functional.cross_entropy(out, y, reduction="none")
    loss = (loss * weight).sum() / weight.sum()
    opt.zero_grad()
    loss.backward()
    opt.step()


def logistic(x, y, *, c: float = 1.0, sample_weight=None, multi: bool = False, class_weight=None):
    """sklearn logistic regression -> one linear layer (weight (in, out), bias). Binary -> 1 output column."""
    from sklearn.linear_model import LogisticRegression

    m = LogisticRegression(C=c, max_iter=5000, class_weight=class_weight).fit(x, y, sample_weight=sample_weight)
    w, b = m.coef_.T.astype(np.float32), m.intercept_.astype(np.float32)
    if hasattr(w, "toarray"):
        w = w.toarray()
    return np.asarray(w), b


def ngram_logistic(texts, y, *, c: float, sample_weight=None, class_weight=None):
    """sklearn logistic regression over hashed char/word n-gram TF-IDF (classifiers.ngrams) of ``texts``.
    Returns (the ``ngram.*`` tensors heads.Head mixes into its output: idf, weight (buckets, outputs), bias;
    the head JSON's ``ngram`` description; ``predict(texts)`` -> class probabilities of the fitted model)."""
    from sklearn.linear_model import LogisticRegression

    from .ngrams import fit_idf, sparse_matrix

    idf = fit_idf(texts)
    m = LogisticRegression(C=c, max_iter=5000, class_weight=class_weight).fit(sparse_matrix(texts, idf), y,
                                                                            sample_weight=sample_weight)
    tensors = {"ngram.idf": idf.astype(np.float16), "ngram.weight": m.coef_.T.astype(np.float16),
               "ngram.bias": m.intercept_.astype(np.float32)}
    meta = {"bits": int(np.log2(len(idf))), "features": "char 2-5 + word 1-2 hashed, sublinear tf-idf, L2", "C": c}
    return tensors, meta, lambda t: m.predict_proba(sparse_matrix(t, idf))


def standardiser(x) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature (mean, scale) of training features; stored with a head as ``input.mean`` / ``input.scale``."""
    x = np.asarray(x, dtype=np.float64)
    return x.mean(0).astype(np.float32), (x.std(0) + 1e-4).astype(np.float32)


def forward(layers, x, output: str) -> np.ndarray:
    h = np.asarray(x, dtype=np.float32)
    for i, (w, b) in enumerate(layers):
        h = h @ w + b
        if i < len(layers) - 1:
            h = np.maximum(h, 0)
    if output == "softmax":
        e = np.exp(h - h.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)
    return 1 / (1 + np.exp(-np.clip(h, -40, 40)))


def folds(n: int, k: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).permutation(n) % k


# ------------------------------------------------------------------ metrics and calibration
def macro_f1(y, pred, n: int = 3) -> float:
    from sklearn.metrics import f1_score
    return float(f1_score(y, pred, average="macro", labels=list(range(n))))


def hate_decide(p: np.ndarray, t_hate: float, t_off: float) -> np.ndarray:
    """3-class decision from probabilities: hate if P(hate) >= t_hate, else offensive if P(off or hate) >= t_off."""
    return np.where(p[:, 2] >= t_hate, 2, np.where(p[:, 1] + p[:, 2] >= t_off, 1, 0))


def calibrate_hate(p: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    best = (-1.0, 0.5, 0.5)
    for th in np.arange(0.20, 0.80, 0.02):
        for to in np.arange(0.30, 0.80, 0.02):
            f = macro_f1(y, hate_decide(p, th, to))
            if f > best[0]:
                best = (f, round(float(th), 2), round(float(to), 2))
    return best


def binary_scores(y, p, t) -> dict:
    pred = p >= t
    tp, fp = int(np.sum(pred & (y == 1))), int(np.sum(pred & (y == 0)))
    fn, tn = int(np.sum(~pred & (y == 1))), int(np.sum(~pred & (y == 0)))
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return {"n": int(len(y)), "accuracy": (tp + tn) / max(len(y), 1), "precision": prec, "recall": rec,
            "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
            "balanced_accuracy": ((tp / (tp + fn) if tp + fn else 0) + (tn / (tn + fp) if tn + fp else 0)) / 2}


def calibrate_binary(y, p, objective: str = "f1") -> float:
    grid = np.arange(0.05, 0.96, 0.01)
    vals = [binary_scores(y, p, t)[objective] for t in grid]
    return round(float(grid[int(np.argmax(vals))]), 2)


def train_token_attention(tokens, y, n_out: int, *, hidden: int = 128, heads: int = 4, epochs: int = 15,
                          lr: float = 1e-3, wd: float = 1e-2, batch: int = 128, seed: int = 0, sample_weight=None,
                          tokens_val=None, select=None) -> dict[str, np.ndarray]:
    """The attention-pool MLP of ``heads.TokenMember`` over ``encoder.TokenStates``: token states standardised
    (mean / scale over the real tokens of ``tokens``), projected to ``hidden`` with ReLU, ``heads`` softmax
    attention pools plus the mean pool, then a 1-hidden-layer MLP (dropout 0.25 on the token states, 0.5 in the
    MLP). Batches are drawn from length-sorted chunks in random order. With ``tokens_val``/``select(p_val)``
    keeps the epoch whose validation score is best. Returns the member's float32 tensors (unprefixed)."""
    import torch

    torch.manual_seed(seed)
    lengths = np.asarray(tokens.lengths)
    sample = tokens.states[:: max(1, len(tokens.states) // 200_000)].astype(np.float32)
    mean, scale = sample.mean(0), sample.std(0) + 1e-3
    dim = tokens.states.shape[1]

    class Pool(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = torch.nn.Dropout(0.25)
            self.proj, self.score = torch.nn.Linear(dim, hidden), torch.nn.Linear(hidden, heads)
            self.mlp = torch.nn.Sequential(torch.nn.Dropout(0.5), torch.nn.Linear(hidden * (heads + 1), hidden),
                                           torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(hidden, n_out))

        def forward(self, x, m):
            h = torch.relu(self.proj(self.drop(x)))
            a = self.score(h).masked_fill(~m[..., None], -1e4).softmax(1)
            pooled = torch.einsum("nlh,nld->nhd", a, h).flatten(1)
            avg = (h * m[..., None]).sum(1) / m.sum(1, keepdim=True)
            return self.mlp(torch.cat([pooled, avg], 1))

    def batch_of(toks, rows):
        x, m = toks.padded(rows)
        return torch.from_numpy((x.astype(np.float32) - mean) / scale), torch.from_numpy(m)

    def predict(toks) -> np.ndarray:
        net.eval()
        order, out = np.argsort(toks.lengths, kind="stable"), np.zeros((len(toks), n_out))
        with torch.no_grad():
            for s in range(0, len(order), 512):
                rows = order[s:s + 512]
                o = net(*batch_of(toks, rows))
                out[rows] = (torch.softmax(o, 1) if n_out > 1 else torch.sigmoid(o)).numpy()
        return out

    net = Pool()
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=wd)
    yt = torch.tensor(y)
    sw = torch.tensor(np.ones(len(y)) if sample_weight is None else sample_weight, dtype=torch.float32)
    chunks = np.array_split(np.argsort(lengths, kind="stable"), (len(y) + batch - 1) // batch)
    rng = np.random.default_rng(seed)
    best, best_state = -1.0, None
    for _ in range(epochs):
        net.train()
        for k in rng.permutation(len(chunks)):
            rows = chunks[k]
            i = torch.from_numpy(rows)
            _weighted_step(torch, opt, net(*batch_of(tokens, rows)), yt[i], sw[i])
        if tokens_val is not None:
            score = select(predict(tokens_val))
            if score > best:
                best, best_state = score, {k: v.clone() for k, v in net.state_dict().items()}
    if best_state is not None:
        net.load_state_dict(best_state)

    def t(p):
        return p.detach().numpy().astype(np.float32).copy()

    return {"input.mean": mean.astype(np.float32), "input.scale": scale.astype(np.float32),
            "pool.proj.weight": t(net.proj.weight).T.copy(), "pool.proj.bias": t(net.proj.bias),
            "pool.score.weight": t(net.score.weight).T.copy(), "pool.score.bias": t(net.score.bias),
            "layer0.weight": t(net.mlp[1].weight).T.copy(), "layer0.bias": t(net.mlp[1].bias),
            "layer1.weight": t(net.mlp[4].weight).T.copy(), "layer1.bias": t(net.mlp[4].bias)}
