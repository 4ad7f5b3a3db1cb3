"""A BERT-style transformer encoder the size of BERT-tiny (hidden 128, 2 layers,
2 heads, intermediate 512, sequence 128), shaped as torch.onnx exports a
Hugging Face BertModel at opset 17:

- embeddings: Gather of the word table by input_ids, plus the token-type row
  and the position table as constants (token_type_ids are all 0 and position
  ids are 0..127, so torch folds them), then LayerNormalization;
- per layer: Q/K/V as MatMul + Add; heads split by Reshape (target shape built
  from Shape -> Gather -> Unsqueeze -> Concat, as torch traces x.size()) and
  Transpose; scores MatMul, Div by sqrt(head_dim), plus the extended mask
  (1 - Cast(mask)) * float32-min; Softmax(axis=-1); context MatMul, heads
  merged back; output projection, residual Add, LayerNormalization; a GELU
  feed-forward (exact form: x * 0.5 * (1 + erf(x / sqrt(2)))).

Output "output" is the last hidden state [batch, 128, 128].
"""
import numpy as np

from loadrun.zoo._builder import FLOAT, INT64, Builder

VOCAB = 30522
SEQ = 128
HIDDEN = 128
LAYERS = 2
HEADS = 2
HEAD_DIM = HIDDEN // HEADS
INTERMEDIATE = 512


def _dots(path):
    return path.replace("/", ".")


def _f32(v):
    return np.array(v, dtype=np.float32)


class _Bert:
    def __init__(self, seed):
        self.b = Builder(seed)

    def linear(self, x, path, cin, cout, gain=1.0):
        """nn.Linear on a 3-D input: MatMul by the transposed weight, then Add."""
        b = self.b
        w = b.weight(f"{_dots(path)}.weight_t", b.normal((cin, cout), np.sqrt(gain / cin)))
        bias = b.weight(f"{_dots(path)}.bias", b.normal((cout,), 0.02))
        y = b.node("MatMul", [x, w], f"/{path}/MatMul")
        return b.node("Add", [bias, y], f"/{path}/Add")

    def layer_norm(self, x, path, out=None):
        b = self.b
        g = b.weight(f"{_dots(path)}.weight", b.uniform((HIDDEN,), 0.8, 1.2))
        beta = b.weight(f"{_dots(path)}.bias", b.normal((HIDDEN,), 0.1))
        return b.node("LayerNormalization", [x, g, beta], f"/{path}/LayerNormalization", out=out,
                      axis=-1, epsilon=1e-12)

    def traced_shape(self, x, path, tail):
        """[x.size(0)] + tail, built the way torch traces it."""
        b = self.b
        shape = b.node("Shape", [x], f"/{path}/Shape")
        idx = b.const(f"/{path}/Constant", np.array(0, dtype=np.int64))
        batch = b.node("Gather", [shape, idx], f"/{path}/Gather", axis=0)
        axes = b.const(f"/{path}/Constant_1", np.array([0], dtype=np.int64))
        batch = b.node("Unsqueeze", [batch, axes], f"/{path}/Unsqueeze")
        rest = b.const(f"/{path}/Constant_2", np.array(tail, dtype=np.int64))
        return b.node("Concat", [batch, rest], f"/{path}/Concat", axis=0)

    def split_heads(self, x, path, perm, traced=True):
        b = self.b
        if traced:
            shape = self.traced_shape(x, path, [SEQ, HEADS, HEAD_DIM])
        else:  # a constant target with an inferred (-1) batch dim
            shape = b.const(f"/{path}/Constant", np.array([-1, SEQ, HEADS, HEAD_DIM], dtype=np.int64))
        y = b.node("Reshape", [x, shape], f"/{path}/Reshape")
        return b.node("Transpose", [y], f"/{path}/Transpose", perm=perm)

    def attention(self, x, mask, p):
        b = self.b
        s = f"{p}/attention/self"
        q = self.split_heads(self.linear(x, f"{s}/query", HIDDEN, HIDDEN), f"{s}/q", [0, 2, 1, 3])
        k = self.split_heads(self.linear(x, f"{s}/key", HIDDEN, HIDDEN), f"{s}/k", [0, 2, 3, 1])
        v = self.split_heads(self.linear(x, f"{s}/value", HIDDEN, HIDDEN), f"{s}/v", [0, 2, 1, 3], traced=False)
        scores = b.node("MatMul", [q, k], f"/{s}/MatMul")
        scores = b.node("Div", [scores, b.const(f"/{s}/Constant", _f32(np.sqrt(HEAD_DIM)))], f"/{s}/Div")
        scores = b.node("Add", [scores, mask], f"/{s}/Add")
        probs = b.node("Softmax", [scores], f"/{s}/Softmax", axis=-1)
        ctx = b.node("MatMul", [probs, v], f"/{s}/MatMul_1")
        ctx = b.node("Transpose", [ctx], f"/{s}/Transpose", perm=[0, 2, 1, 3])
        ctx = b.node("Reshape", [ctx, self.traced_shape(ctx, f"{s}/merge", [SEQ, HIDDEN])], f"/{s}/Reshape")
        o = f"{p}/attention/output"
        y = self.linear(ctx, f"{o}/dense", HIDDEN, HIDDEN)
        y = b.node("Add", [y, x], f"/{o}/Add")
        return self.layer_norm(y, f"{o}/LayerNorm")

    def feed_forward(self, x, p, out=None):
        b = self.b
        i = f"{p}/intermediate"
        h = self.linear(x, f"{i}/dense", HIDDEN, INTERMEDIATE, gain=2.0)
        g = b.node("Div", [h, b.const(f"/{i}/Constant", _f32(np.sqrt(2.0)))], f"/{i}/Div")
        g = b.node("Erf", [g], f"/{i}/Erf")
        g = b.node("Add", [g, b.const(f"/{i}/Constant_1", _f32(1.0))], f"/{i}/Add")
        g = b.node("Mul", [h, g], f"/{i}/Mul")
        g = b.node("Mul", [g, b.const(f"/{i}/Constant_2", _f32(0.5))], f"/{i}/Mul_1")
        o = f"{p}/output"
        y = self.linear(g, f"{o}/dense", INTERMEDIATE, HIDDEN)
        y = b.node("Add", [y, x], f"/{o}/Add")
        return self.layer_norm(y, f"{o}/LayerNorm", out=out)

    def build(self):
        b = self.b
        word = b.weight("embeddings.word_embeddings.weight", b.normal((VOCAB, HIDDEN), 1.0))
        tok = b.weight("embeddings.token_type_embeddings.row0", b.normal((HIDDEN,), 0.5))
        pos = b.weight("embeddings.position_embeddings.rows", b.normal((1, SEQ, HIDDEN), 0.5))
        x = b.node("Gather", [word, "input_ids"], "/embeddings/word_embeddings/Gather", axis=0)
        x = b.node("Add", [x, tok], "/embeddings/Add")
        x = b.node("Add", [x, pos], "/embeddings/Add_1")
        x = self.layer_norm(x, "embeddings/LayerNorm")
        # extended attention mask: [batch, 1, 1, seq], 0 where attended, float32-min elsewhere
        m = b.node("Unsqueeze", ["attention_mask", b.const("/Constant", np.array([1, 2], dtype=np.int64))],
                   "/Unsqueeze")
        m = b.node("Cast", [m], "/Cast", to=FLOAT)
        m = b.node("Sub", [b.const("/Constant_1", _f32(1.0)), m], "/Sub")
        mask = b.node("Mul", [m, b.const("/Constant_2", _f32(np.finfo(np.float32).min))], "/Mul")
        for layer in range(LAYERS):
            p = f"encoder/layer.{layer}"
            x = self.attention(x, mask, p)
            x = self.feed_forward(x, p, out="output" if layer == LAYERS - 1 else None)
        return b.model("bert_tiny",
                       [("input_ids", INT64, ["batch", SEQ]), ("attention_mask", INT64, ["batch", SEQ])],
                       [("output", FLOAT, ["batch", SEQ, HIDDEN])],
                       "BERT-tiny-sized encoder (last hidden state), seeded random weights")


def bert_tiny():
    return _Bert(128).build()
